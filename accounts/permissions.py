"""Role checks used by endpoints. Object visibility lives in selectors (another's id is a 404)."""

from django.http import HttpRequest

from accounts.models import User
from audits.errors import PermissionDenied


def require_admin(request: HttpRequest) -> User:
    user: User = request.auth
    if not user.is_admin:
        raise PermissionDenied("Only admins may manage users.")
    return user


def require_person(request: HttpRequest) -> User:
    """Credentials management needs the person, not one of their machine keys."""
    if getattr(request, "api_key", None) is not None:
        raise PermissionDenied(
            "API keys cannot manage credentials; sign in as the user.", code="api_key_not_allowed"
        )
    return request.auth

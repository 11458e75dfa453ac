"""Who may call an endpoint, declared on the endpoint; which rows they may reach, by selector.

Roles are ranked (user < staff < admin). An endpoint states its rule with one decorator:
``@requires(Role.STAFF)``, ``@person_only`` (credential management: the person, never one of
their API keys), ``@any_user`` (any authenticated caller) or ``@public`` (no authentication).
``tests/foundation/test_permission_declarations.py`` fails when a state-changing endpoint has none.
Object visibility stays in selectors: ``get_object_or_404(selector_queryset, pk=...)`` makes
another user's id indistinguishable from a missing one.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from core.errors import NotFound, PermissionDenied

PERMISSION_ATTRIBUTE = "permission_declaration"


class Role(models.TextChoices):
    USER = "user", "User"
    STAFF = "staff", "Staff"
    ADMIN = "admin", "Admin"


_RANK = {Role.USER: 0, Role.STAFF: 1, Role.ADMIN: 2}
_REFUSAL = {
    Role.STAFF: "Only staff may do this.",
    Role.ADMIN: "Only admins may do this.",
}


def has_role(actor: Any, role: Role) -> bool:
    """True when ``actor`` (a user, or anything with a ``role``) ranks at least ``role``."""
    actor_role = getattr(actor, "role", None)
    if actor_role not in _RANK:
        return False
    return _RANK[Role(actor_role)] >= _RANK[role]


def is_staff_member(actor: Any) -> bool:
    return has_role(actor, Role.STAFF)


def is_admin(actor: Any) -> bool:
    return has_role(actor, Role.ADMIN)


def _declare(view: Callable, declaration: str) -> None:
    setattr(view, PERMISSION_ATTRIBUTE, declaration)


def requires(role: Role, *, message: str | None = None) -> Callable[[Callable], Callable]:
    """Refuse (403 ``permission_denied``) callers whose role ranks below ``role``."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not has_role(request.auth, role):
                raise PermissionDenied(message or _REFUSAL.get(role, "Not allowed."))
            return view(request, *args, **kwargs)

        _declare(wrapper, f"role:{role.value}")
        return wrapper

    return decorator


def person_only(view: Callable) -> Callable:
    """Credential management needs the person, not one of their machine keys (403)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if getattr(request, "api_key", None) is not None:
            raise PermissionDenied(
                "API keys cannot manage credentials; sign in as the user.",
                code="api_key_not_allowed",
            )
        return view(request, *args, **kwargs)

    _declare(wrapper, "person")
    return wrapper


def any_user(view: Callable) -> Callable:
    """Any authenticated caller; what they reach is narrowed by the selector they call."""
    _declare(view, "any_user")
    return view


def public(view: Callable) -> Callable:
    """No authentication (the route sets ``auth=None``); throttles guard it instead."""
    _declare(view, "public")
    return view


def permission_declaration(view: Callable) -> str | None:
    """The rule an endpoint declared, or None (the declarations test fails on None)."""
    return getattr(view, PERMISSION_ATTRIBUTE, None)


def get_object_or_404[Model: models.Model](
    queryset: QuerySet[Model], *, message: str = "Not found.", **lookup: Any
) -> Model:
    """The one row of a selector's (already visibility-filtered) queryset, else 404 ``not_found``."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise NotFound(message)
    return found

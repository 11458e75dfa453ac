"""How a request proves who it is: Bearer JWT, X-API-Key, or the HttpOnly access cookie.

Each returns the active user (and remembers the API key, if any), so ``request.auth`` is a User.
"""

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from accounts import selectors
from accounts.models import User
from accounts.services.api_keys import api_key_touch
from accounts.tokens import InvalidToken, access_token_decode
from core import context
from core.errors import NotAuthenticated, PermissionDenied

ACCESS_COOKIE = "parecer_access"
REFRESH_COOKIE = "parecer_refresh"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _authenticated(request: HttpRequest, user: User, *, api_key=None) -> User:
    request.user = user
    request.api_key = api_key
    label = f"{user.email} (key {api_key.prefix})" if api_key else user.email
    context.set_actor(
        user_id=str(user.pk), api_key_id=str(api_key.pk) if api_key else None, label=label
    )
    return user


def _invalid_token() -> NotAuthenticated:
    # A presented but unusable token is not "no credentials": clients refresh on this code.
    return NotAuthenticated(
        "The access token is invalid, expired or revoked.",
        code="invalid_token",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _user_from_access_token(token: str) -> User:
    try:
        claims = access_token_decode(token)
    except InvalidToken:
        raise _invalid_token() from None
    # One indexed lookup per request: a deactivated user's tokens, and tokens issued before the
    # last revocation (token version), stop working at once.
    user = selectors.active_user_get(user_id=claims.user_id, token_version=claims.token_version)
    if user is None:
        raise _invalid_token()
    return user


class JWTBearer(HttpBearer):
    """``Authorization: Bearer <access token>`` from POST /auth/login."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return _authenticated(request, _user_from_access_token(token))


class ApiKeyAuth(APIKeyHeader):
    """``X-API-Key: prc_…`` for machine clients; a ``read`` key may only read."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if not key:
            return None
        api_key = selectors.api_key_get_usable(key=key, now=timezone.now())
        if api_key is None:
            return None
        if request.method not in SAFE_METHODS and not api_key.can_write:
            raise PermissionDenied("This API key may only read.", code="insufficient_scope")
        api_key_touch(api_key=api_key, now=timezone.now())
        return _authenticated(request, api_key.user, api_key=api_key)


class AccessCookieAuth(APIKeyCookie):
    """The browser mode: an HttpOnly access cookie, with CSRF checked on unsafe methods."""

    param_name = ACCESS_COOKIE

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF matters only when the cookie is what authenticates; without the cookie this scheme
        # simply does not apply and the caller gets the usual 401.
        key = request.COOKIES.get(self.param_name)
        if key and request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise PermissionDenied("CSRF verification failed.", code="csrf_failed")
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if not key:
            return None
        return _authenticated(request, _user_from_access_token(key))


API_AUTH = [JWTBearer(), ApiKeyAuth(), AccessCookieAuth()]

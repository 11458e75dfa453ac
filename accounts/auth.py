"""How a request proves who it is: Bearer JWT, X-API-Key, or the HttpOnly access cookie.

Each returns the active user (and remembers the API key, if any), so ``request.auth`` is a User.
A route served from the shared cache builds its own with ``api_auth(document_key=...)``: its
token check reads the user in the same cache round trip as the document (``cached_users``).
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from accounts import cached_users, selectors
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


# The cache key of the document a route will read, from its request (None: nothing to prefetch).
DocumentKey = Callable[[HttpRequest], str | None]


def _user_from_access_token(
    request: HttpRequest, token: str, document_key: DocumentKey | None
) -> User:
    try:
        claims = access_token_decode(token)
    except InvalidToken:
        raise _invalid_token() from None
    # One indexed lookup per request: a deactivated user's tokens, and tokens issued before the
    # last revocation (token version), stop working at once.
    key = document_key(request) if document_key else None
    if key is None:
        user = selectors.active_user_get(user_id=claims.user_id, token_version=claims.token_version)
    else:
        user = cached_users.active_user_with_document(
            request=request,
            user_id=claims.user_id,
            token_version=claims.token_version,
            document_key=key,
        )
    if user is None:
        raise _invalid_token()
    return user


class JWTBearer(HttpBearer):
    """``Authorization: Bearer <access token>`` from POST /auth/login."""

    openapi_scheme = "bearer"

    def __init__(self, *, document_key: DocumentKey | None = None) -> None:
        super().__init__()
        self.document_key = document_key

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return _authenticated(request, _user_from_access_token(request, token, self.document_key))


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

    def __init__(self, *, document_key: DocumentKey | None = None) -> None:
        super().__init__(csrf=True)
        self.document_key = document_key

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
        return _authenticated(request, _user_from_access_token(request, key, self.document_key))


def api_auth(*, document_key: DocumentKey | None = None) -> list:
    """The API's schemes; with ``document_key``, a token's user comes with that document."""
    return [
        JWTBearer(document_key=document_key),
        ApiKeyAuth(),
        AccessCookieAuth(document_key=document_key),
    ]


API_AUTH = api_auth()

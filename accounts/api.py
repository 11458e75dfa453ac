"""Routers of the accounts domain: /auth (one's own account and credentials) and /users (admin)."""

import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from ninja import Body, Query, Router, Status
from ninja.pagination import paginate
from ninja.utils import check_csrf

from accounts import schemas, selectors
from accounts.auth import ACCESS_COOKIE, REFRESH_COOKIE
from accounts.services import api_keys, passwords, profile, reauthentication, sessions, users
from core.errors import ErrorOut, NotAuthenticated, PermissionDenied
from core.permissions import Role, any_user, get_object_or_404, person_only, public, requires
from core.throttles import ScopedRateThrottle, UserRateThrottle, WriteRateThrottle

auth_router = Router()
users_router = Router()

REFRESH_COOKIE_PATH = "/api/v1/auth/"


def _set_auth_cookies(response: HttpResponse, issued: sessions.IssuedTokens) -> None:
    common = {"httponly": True, "secure": settings.AUTH_COOKIE_SECURE, "samesite": "Lax"}
    response.set_cookie(
        ACCESS_COOKIE, issued.access_token, max_age=issued.expires_in, path="/", **common
    )
    response.set_cookie(
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=issued.refresh_expires_in,
        path=REFRESH_COOKIE_PATH,
        **common,
    )


def _clear_auth_cookies(response: HttpResponse) -> None:
    # Not delete_cookie(): it cannot set Secure, and the clearing header should match the one
    # that set the cookie (browsers may ignore a non-Secure overwrite of a Secure cookie).
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_COOKIE_PATH)):
        response.set_cookie(
            name,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path=path,
            httponly=True,
            secure=settings.AUTH_COOKIE_SECURE,
            samesite="Lax",
        )


def _tokens_response(request, response, issued: sessions.IssuedTokens, *, mode: str) -> dict:
    response["Cache-Control"] = "no-store"  # credentials must not sit in any cache
    if mode == "cookie":
        _set_auth_cookies(response, issued)
        return {
            "token_type": "cookie",
            "expires_in": issued.expires_in,
            "csrf_token": get_token(request),
        }
    return {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }


TOKENS = schemas.TokenOut | schemas.CookieSessionOut


@auth_router.post(
    "/register",
    auth=None,
    throttle=[ScopedRateThrottle("register")],
    response={201: schemas.UserOut, 403: ErrorOut, 409: ErrorOut},
)
@public
def register(request: HttpRequest, payload: schemas.RegisterIn):
    """Create a `user` account (403 when registration is closed); a verification e-mail follows."""
    user = profile.user_register(
        email=payload.email, password=payload.password, full_name=payload.full_name
    )
    return Status(201, user)


@auth_router.post(
    "/login",
    auth=None,
    throttle=[ScopedRateThrottle("login")],
    response={200: TOKENS, 401: ErrorOut},
)
@public
def login(request: HttpRequest, response: HttpResponse, payload: schemas.LoginIn):
    """Tokens in the body (`mode: token`), or HttpOnly cookies plus a CSRF token (`mode: cookie`).

    5 failures for one account or one IP within 15 minutes lock it out (429 with Retry-After).
    """
    issued = sessions.login(email=payload.email, password=payload.password)
    return _tokens_response(request, response, issued, mode=payload.mode)


@auth_router.post(
    "/refresh",
    auth=None,
    throttle=[ScopedRateThrottle("refresh")],
    response={200: TOKENS, 401: ErrorOut, 403: ErrorOut},
)
@public
def refresh(request: HttpRequest, response: HttpResponse, payload: schemas.RefreshIn | None = None):
    """Spend a refresh token (body, or the refresh cookie) for a new pair; reuse revokes the family."""
    payload = payload or schemas.RefreshIn()
    token, mode = payload.refresh_token, payload.mode
    if token is None and REFRESH_COOKIE in request.COOKIES:
        if check_csrf(request) is not None:
            raise PermissionDenied("CSRF verification failed.", code="csrf_failed")
        token, mode = request.COOKIES[REFRESH_COOKIE], "cookie"
    if not token:
        raise NotAuthenticated("A refresh token is required.", code="invalid_token")
    issued = sessions.refresh(refresh_token=token)
    return _tokens_response(request, response, issued, mode=mode)


@auth_router.post("/logout", response={204: None, 403: ErrorOut, 422: ErrorOut})
@person_only
def logout(request: HttpRequest, response: HttpResponse, payload: schemas.LogoutIn | None = None):
    """End this session (its refresh token family: `refresh_token` in the body, or the refresh
    cookie; 422 `refresh_token_required` without either), or with `everywhere: true` every
    session and every access token already issued."""
    payload = payload or schemas.LogoutIn()
    sessions.logout(
        user=request.auth,
        refresh_token=payload.refresh_token or request.COOKIES.get(REFRESH_COOKIE),
        everywhere=payload.everywhere,
    )
    _clear_auth_cookies(response)
    return Status(204, None)


@auth_router.get("/me", response=schemas.UserOut)
@any_user
def me(request: HttpRequest):
    """The signed-in user."""
    return request.auth


@auth_router.patch("/me", response={200: schemas.UserOut, 403: ErrorOut, 409: ErrorOut})
@person_only
def me_update(request: HttpRequest, payload: schemas.MeUpdateIn):
    """Change full_name or e-mail. A new e-mail needs `current_password` (403
    `reauthentication_required` / `invalid_credentials`), must be verified again, and the old
    address is told of the change. Role is not yours to set."""
    return profile.profile_update(
        user=request.auth,
        full_name=payload.full_name,
        email=payload.email,
        current_password=payload.current_password,
    )


@auth_router.get("/me/preferences", response={200: dict[str, Any], 401: ErrorOut})
@any_user
def preferences_get(request: HttpRequest):
    """Your preferences: a JSON object your frontend owns (theme, defaults, ...)."""
    return request.auth.preferences


@auth_router.put(
    "/me/preferences", response={200: dict[str, Any], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
)
@person_only
def preferences_put(request: HttpRequest, payload: Body[dict[str, Any]]):
    """Replace your preferences with this JSON object (at most 16 KiB)."""
    return profile.preferences_replace(user=request.auth, preferences=payload)


@auth_router.post("/password/change", response={204: None, 403: ErrorOut})
@person_only
def password_change(
    request: HttpRequest, response: HttpResponse, payload: schemas.PasswordChangeIn
):
    """Needs the current password (403 `invalid_credentials`; wrong guesses count toward the
    sign-in lockout). Ends every session, this one included: sign in again with the new one."""
    passwords.password_change(
        user=request.auth,
        current_password=payload.current_password,
        new_password=payload.new_password,
    )
    _clear_auth_cookies(response)
    return Status(204, None)


@auth_router.post(
    "/password/reset",
    auth=None,
    throttle=[ScopedRateThrottle("password_reset")],
    response={202: schemas.AcceptedOut},
)
@public
def password_reset(request: HttpRequest, payload: schemas.PasswordResetIn):
    """Always 202: if the address has an account, a single-use link valid 1 h is e-mailed."""
    passwords.password_reset_request(email=payload.email)
    return Status(202, {"detail": "If the address has an account, a reset link is on its way."})


@auth_router.post("/password/reset/confirm", auth=None, response={204: None})
@public
def password_reset_confirm(request: HttpRequest, payload: schemas.PasswordResetConfirmIn):
    """Set a new password from the e-mailed link; every session ends."""
    passwords.password_reset_confirm(
        uid=payload.uid, token=payload.token, new_password=payload.new_password
    )
    return Status(204, None)


@auth_router.post(
    "/email/verify",
    throttle=[WriteRateThrottle("writes"), UserRateThrottle("email_verification")],
    response={202: schemas.AcceptedOut, 403: ErrorOut, 409: ErrorOut},
)
@person_only
def email_verify(request: HttpRequest):
    """E-mail (again) the verification link for the current address. While one is still queued,
    asking again sends nothing more; throttled per user and per address (429)."""
    profile.email_verification_send(user=request.auth)
    return Status(202, {"detail": "A verification link is on its way."})


@auth_router.post("/email/verify/confirm", auth=None, response=schemas.UserOut)
@public
def email_verify_confirm(request: HttpRequest, payload: schemas.EmailVerifyConfirmIn):
    """Follow the e-mailed link: the address is verified."""
    return profile.email_verify_confirm(uid=payload.uid, token=payload.token)


@auth_router.get("/api-keys", response={200: list[schemas.ApiKeyOut], 403: ErrorOut})
@paginate
@person_only
def api_key_list(request: HttpRequest):
    """Your API keys (never their secrets), newest first."""
    return selectors.api_key_list(user=request.auth)


@auth_router.post(
    "/api-keys", response={201: schemas.ApiKeyCreatedOut, 403: ErrorOut, 409: ErrorOut}
)
@person_only
def api_key_create(request: HttpRequest, response: HttpResponse, payload: schemas.ApiKeyIn):
    """Create a key for a machine client; `key` is in this response only. Needs
    `current_password` (403 `invalid_credentials`) and a verified e-mail (403 `email_unverified`);
    at most `API_KEYS_MAX_ACTIVE` usable keys (409 `api_key_limit`)."""
    reauthentication.current_password_confirm(user=request.auth, password=payload.current_password)
    response["Cache-Control"] = "no-store"
    api_key, secret = api_keys.api_key_create(
        user=request.auth,
        name=payload.name,
        scope=payload.scope,
        expires_at=payload.expires_at,
    )
    api_key.key = secret
    return Status(201, api_key)


@auth_router.delete("/api-keys/{key_id}", response={204: None, 403: ErrorOut, 404: ErrorOut})
@person_only
def api_key_revoke(request: HttpRequest, key_id: uuid.UUID):
    """Revoke one of your keys; it stops working on the next request."""
    api_key = get_object_or_404(
        selectors.api_key_list(user=request.auth), pk=key_id, message="No such API key."
    )
    api_keys.api_key_revoke(api_key=api_key)
    return Status(204, None)


def _user_or_404(user_id: uuid.UUID):
    return get_object_or_404(selectors.user_list(), pk=user_id, message="No such user.")


@users_router.get("", response={200: list[schemas.UserOut], 403: ErrorOut})
@paginate
@requires(Role.ADMIN, message="Only admins may manage users.")
def user_list(request: HttpRequest, filters: Query[schemas.UserFilters]):
    """Admins: search e-mail/name, filter role and is_active."""
    return selectors.user_list(q=filters.q, role=filters.role, is_active=filters.is_active)


@users_router.get("/{user_id}", response={200: schemas.UserOut, 403: ErrorOut, 404: ErrorOut})
@requires(Role.ADMIN, message="Only admins may manage users.")
def user_get(request: HttpRequest, user_id: uuid.UUID):
    return _user_or_404(user_id)


@users_router.patch(
    "/{user_id}", response={200: schemas.UserOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
)
@requires(Role.ADMIN, message="Only admins may manage users.")
def user_update(request: HttpRequest, user_id: uuid.UUID, payload: schemas.UserUpdateIn):
    """Admins: change role, is_active or full_name (the last active admin stays an admin)."""
    return users.user_update(
        target=_user_or_404(user_id),
        role=payload.role,
        is_active=payload.is_active,
        full_name=payload.full_name,
    )


@users_router.delete(
    "/{user_id}", response={204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
)
@requires(Role.ADMIN, message="Only admins may manage users.")
def user_deactivate(request: HttpRequest, user_id: uuid.UUID):
    """Admins: deactivate (and sign out everywhere); rows are only ever deleted in the admin site."""
    users.user_deactivate(target=_user_or_404(user_id))
    return Status(204, None)

"""Issue 10, the smaller findings on responses: token-bearing responses are never cached, every
401 names its scheme, unusable tokens say so, and the logout's cookie clearing is Secure."""

import time
import uuid

import jwt
import pytest
from django.conf import settings
from django.test import Client

from accounts.models import RefreshToken
from tests.accounts.helpers import PASSWORD, bearer_of, login, post_json
from tests.support.http import assert_error, get

pytestmark = pytest.mark.django_db


def test_every_response_carrying_a_token_is_no_store(client, user):
    token_login = login(client, user.email)
    cookie_login = login(Client(), user.email, mode="cookie")
    refreshed = post_json(
        client, "/auth/refresh", {"refresh_token": token_login.json()["refresh_token"]}
    )
    key = post_json(
        client,
        "/auth/api-keys",
        {"name": "ci", "current_password": PASSWORD},
        **bearer_of(refreshed.json()),
    )

    for response in (token_login, cookie_login, refreshed, key):
        assert response.status_code in (200, 201), response.content
        assert response["Cache-Control"] == "no-store"
    assert key.json()["key"].startswith("prc_")
    assert RefreshToken.objects.filter(user=user).count() == 3


def test_a_401_names_the_bearer_scheme(client, user):
    anonymous = get(client, "/auth/me")
    wrong = login(client, user.email, "not-the-password")

    assert_error(anonymous, 401, "not_authenticated")
    assert_error(wrong, 401, "invalid_credentials")
    for response in (anonymous, wrong):
        assert response["WWW-Authenticate"].startswith("Bearer")


def _expired_token(user) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user.pk), "iat": now - 7200, "exp": now - 3600, "jti": uuid.uuid4().hex,
        "ver": 0, "typ": "access", "iss": settings.JWT_ISSUER, "aud": settings.JWT_AUDIENCE,
    }  # fmt: skip
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm="HS256")


def test_an_expired_access_cookie_is_invalid_token_not_missing_credentials(user, settings):
    settings.AUTH_COOKIE_SECURE = False
    browser = Client()
    login(browser, user.email, mode="cookie")
    browser.cookies["parecer_access"] = _expired_token(user)

    response = browser.get("/api/v1/auth/me")

    assert_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_logout_clears_the_cookies_with_the_flags_that_set_them(user, settings, audit_events):
    settings.AUTH_COOKIE_SECURE = True
    browser = Client(enforce_csrf_checks=True)
    csrf = login(browser, user.email, mode="cookie").json()["csrf_token"]

    response = browser.post(
        "/api/v1/auth/logout", {}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )

    assert response.status_code == 204, response.content
    for name in ("parecer_access", "parecer_refresh"):
        cleared = response.cookies[name]
        assert cleared.value == "" and cleared["max-age"] == 0
        assert cleared["secure"] is True and cleared["httponly"] is True
        assert cleared["samesite"] == "Lax"
    assert response.cookies["parecer_refresh"]["path"] == "/api/v1/auth/"
    assert RefreshToken.objects.get(user=user).revoked_at is not None
    [event] = audit_events(action="auth.logout")
    assert event.details == {"scope": "session"}

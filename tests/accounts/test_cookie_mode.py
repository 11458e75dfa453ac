"""Browser mode: HttpOnly cookies instead of tokens, CSRF on unsafe methods."""

import pytest
from django.test import Client

from accounts.models import RefreshToken
from tests.accounts.helpers import error_code, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(settings) -> Client:
    settings.AUTH_COOKIE_SECURE = False  # the test client speaks plain http
    return Client(enforce_csrf_checks=True)


def _signed_in(browser, user) -> str:
    response = login(browser, user.email, mode="cookie")
    assert response.status_code == 200
    return response.json()["csrf_token"]


def test_cookie_login_sets_httponly_cookies_and_returns_no_tokens(user, settings):
    response = login(Client(enforce_csrf_checks=True), user.email, mode="cookie")

    body = response.json()
    assert body["token_type"] == "cookie" and body["csrf_token"]
    assert "access_token" not in body and "refresh_token" not in body
    access, refresh = response.cookies["parecer_access"], response.cookies["parecer_refresh"]
    for cookie in (access, refresh):
        assert cookie["httponly"] is True
        assert cookie["secure"] is True  # the default
        assert cookie["samesite"] == "Lax"
    assert access["path"] == "/"
    assert refresh["path"] == "/api/v1/auth/"


def test_cookie_authenticates_safe_requests(browser, user):
    _signed_in(browser, user)

    response = browser.get("/api/v1/auth/me")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_unsafe_request_without_csrf_token_is_403(browser, user):
    _signed_in(browser, user)

    response = browser.patch("/api/v1/auth/me", {"full_name": "X"}, content_type="application/json")

    assert response.status_code == 403
    assert error_code(response) == "csrf_failed"
    user.refresh_from_db()
    assert user.full_name != "X"


def test_unsafe_request_with_csrf_token_works(browser, user):
    csrf = _signed_in(browser, user)

    response = browser.patch(
        "/api/v1/auth/me",
        {"full_name": "Ann"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert response.status_code == 200
    assert response.json()["full_name"] == "Ann"


def test_cookie_refresh_rotates_the_cookies(browser, user):
    csrf = _signed_in(browser, user)
    old_refresh = browser.cookies["parecer_refresh"].value

    refused = browser.post("/api/v1/auth/refresh", content_type="application/json")
    response = browser.post(
        "/api/v1/auth/refresh", content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )

    assert refused.status_code == 403
    assert response.status_code == 200
    assert response.json()["token_type"] == "cookie"
    assert browser.cookies["parecer_refresh"].value != old_refresh
    assert browser.get("/api/v1/auth/me").status_code == 200


def test_cookie_logout_revokes_and_clears_cookies(browser, user):
    csrf = _signed_in(browser, user)

    response = browser.post(
        "/api/v1/auth/logout", content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )

    assert response.status_code == 204
    assert response.cookies["parecer_access"].value == ""
    assert response.cookies["parecer_refresh"].value == ""
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert browser.get("/api/v1/auth/me").status_code == 401

"""Sessions, request.user and messages run for browsers (admin, cookie mode) only: an API call
with a bearer token or an API key skips them (config/browser_middleware.py); CSRF stays."""

import re

import pytest
from django.test import Client

from tests.support.http import get, post_json

pytestmark = pytest.mark.django_db


def test_bearer_call_skips_the_browser_middleware_and_still_authenticates(client, user, bearer):
    response = get(client, "/auth/me", **bearer(user))

    assert response.status_code == 200 and response.json()["email"] == user.email
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "_messages")
    assert request.user == user  # set by the API's own auth, not by AuthenticationMiddleware
    assert "csrftoken" not in response.cookies and "Cookie" not in response.get("Vary", "")


def test_api_key_write_needs_no_csrf_token(user, api_key_headers, audit_events):
    browserless = Client(enforce_csrf_checks=True)
    body = {"action": "invoice.paid", "entity_type": "invoice", "entity_id": "inv-1"}

    response = post_json(browserless, "/audits", body, **api_key_headers(user, "read+write"))

    assert response.status_code == 201, response.content
    assert not hasattr(response.wsgi_request, "session")
    [event] = audit_events(action="invoice.paid")
    assert event.entity_id == "inv-1" and event.actor_user_id == str(user.pk)


def test_a_request_with_cookies_runs_the_whole_stack(client, user, bearer):
    client.cookies["csrftoken"] = "x" * 32  # any cookie: it may be a cookie-mode browser

    response = get(client, "/auth/me", **bearer(user))

    assert response.status_code == 200 and response.json()["email"] == user.email
    assert hasattr(response.wsgi_request, "session")


def test_admin_login_still_enforces_csrf_and_keeps_a_session(admin, settings):
    browser = Client(enforce_csrf_checks=True)
    login_page = browser.get("/" + settings.ADMIN_URL + "login/")
    token = login_page.cookies["csrftoken"].value
    credentials = {"username": admin.email, "password": "unused-password"}

    refused = browser.post("/" + settings.ADMIN_URL + "login/", credentials)
    assert refused.status_code == 403 and b"CSRF" in refused.content

    admin.set_password("a-long-admin-password-1")
    admin.save()
    credentials["password"] = "a-long-admin-password-1"
    signed_in = browser.post(
        "/" + settings.ADMIN_URL + "login/", {**credentials, "csrfmiddlewaretoken": token}
    )
    assert signed_in.status_code == 302, signed_in.content[:500]
    index = browser.get("/" + settings.ADMIN_URL)
    assert index.status_code == 200 and admin.email.encode() in index.content


def test_json_keeps_djangos_datetime_format(client, user, bearer):
    """The orjson renderer hands datetimes back to ninja's encoder: milliseconds and Z."""
    response = get(client, "/auth/me", **bearer(user))

    raw = response.content.decode()
    stamps = re.findall(r'"(\d{4}-\d\d-\d\dT[^"]+)"', raw)
    assert stamps, raw
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", s) for s in stamps), (
        stamps
    )

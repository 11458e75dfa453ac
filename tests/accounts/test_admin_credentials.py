"""Back-office sign-in, sign-out and password forms share the API's rules, counters and trail."""

import pytest
from django.test import Client

from accounts.models import RefreshToken, User
from tests.support.factories import DEFAULT_PASSWORD
from tests.support.http import error_code, post_json

pytestmark = pytest.mark.django_db


def admin_login(client: Client, email: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password})


def api_login(client: Client, email: str, password: str):
    return post_json(client, "/auth/login", {"email": email, "password": password})


def test_admin_sign_in_is_audited_and_starts_a_session(staff, audit_events):
    client = Client()
    response = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    [event] = audit_events(action="auth.login.succeeded")
    assert event.source == "admin"
    assert event.actor_user_id == str(staff.pk) and event.entity_id == str(staff.pk)
    assert event.details == {"via": "admin"}


def test_wrong_admin_passwords_lock_out_the_admin_and_the_api_alike(staff, audit_events):
    client = Client()
    for _ in range(5):
        failed = admin_login(client, staff.email, "wrong-password")
        assert failed.status_code == 200
        assert "E-mail or password is incorrect." in failed.content.decode()

    right = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert right.status_code == 200  # the form again: no session while locked out
    assert "Too many failed sign-in attempts" in right.content.decode()
    assert client.get("/admin/").status_code == 302  # still signed out
    assert error_code(api_login(Client(), staff.email, DEFAULT_PASSWORD)) == "login_locked"
    actions = [event.action for event in audit_events(action__startswith="auth.login")]
    assert actions == ["auth.login.failed"] * 4 + ["auth.login.locked_out"]
    assert all(event.source == "admin" for event in audit_events(action__startswith="auth.login"))


def test_api_lockout_also_closes_the_admin_door(staff):
    for _ in range(5):
        api_login(Client(), staff.email, "wrong-password")

    response = admin_login(Client(), staff.email, DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_admin_sign_in_shares_the_api_login_rate(staff, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "2/min"}
    client = Client()
    admin_login(client, staff.email, "wrong-password")
    api_login(client, staff.email, "wrong-password")

    response = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert "Too many sign-in attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_right_password_without_a_role_is_refused_and_audited(user, audit_events):
    response = admin_login(Client(), user.email, DEFAULT_PASSWORD)

    assert "no back-office role" in response.content.decode()
    [event] = audit_events(action="auth.login.failed")
    assert event.details["reason"] == "no back-office role"


def test_admin_sign_out_is_audited(staff, audit_events):
    client = Client()
    admin_login(client, staff.email, DEFAULT_PASSWORD)

    response = client.post("/admin/logout/")

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
    [event] = audit_events(action="auth.logout")
    assert event.actor_user_id == str(staff.pk)
    assert event.details == {"via": "admin", "scope": "admin_session"}


def test_own_password_change_uses_the_api_service(staff, audit_events):
    api_session = api_login(Client(), staff.email, DEFAULT_PASSWORD).json()
    client = Client()
    admin_login(client, staff.email, DEFAULT_PASSWORD)

    weak = client.post(
        "/admin/password_change/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert weak.status_code == 200
    assert "too short" in weak.content.decode()

    new = "a-brand-new-long-passphrase"
    response = client.post(
        "/admin/password_change/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200  # this browser stays signed in
    assert User.objects.get(pk=staff.pk).check_password(new)
    assert not RefreshToken.objects.filter(user=staff, revoked_at__isnull=True).exists()
    refreshed = post_json(
        Client(), "/auth/refresh", {"refresh_token": api_session["refresh_token"]}
    )
    assert error_code(refreshed) == "invalid_token"
    [event] = audit_events(action="auth.password.changed")
    assert event.source == "admin" and event.actor_user_id == str(staff.pk)


def test_add_user_applies_the_password_validators(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"email": "weak@example.com", "password": "short", "full_name": "", "role": "user",
         "is_active": "on", "email_verified_at_0": "", "email_verified_at_1": ""},
    )  # fmt: skip

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.filter(email="weak@example.com").exists()


def test_admin_sets_a_users_password_on_their_page(admin_client, admin, user, audit_events):
    api_session = api_login(Client(), user.email, DEFAULT_PASSWORD).json()
    new = "an-admin-chosen-passphrase"

    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {"email": user.email, "full_name": user.full_name, "role": "user", "is_active": "on",
         "password": new, "email_verified_at_0": "", "email_verified_at_1": ""},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(pk=user.pk).check_password(new)
    refreshed = post_json(
        Client(), "/auth/refresh", {"refresh_token": api_session["refresh_token"]}
    )
    assert error_code(refreshed) == "invalid_token"
    [event] = audit_events(action="auth.password.set_by_admin")
    assert event.actor_user_id == str(admin.pk)
    assert event.details == {"revoked_refresh_tokens": 1}


def test_admin_sign_in_fails_closed_while_the_lockout_store_is_down(staff, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens here
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client = Client(raise_request_exception=False)  # as in production: the handler answers

    response = admin_login(client, staff.email, DEFAULT_PASSWORD)

    # Closed, not open: the admin's HTML 503 page for a cache outage, and no session.
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "The cache is unavailable" in response.content.decode()
    assert "sessionid" not in response.cookies

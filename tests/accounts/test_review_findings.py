"""Holes a review found through the public surface, each closed: far-future key expiry, lockout by
e-mail spelling, form bodies on cookie-authenticated JSON endpoints, unaudited back-office deletes."""

import pytest
from django.test import Client

from accounts.models import ApiKey, RefreshToken, Role, User
from accounts.services.api_keys import api_key_create
from tests.accounts.helpers import PASSWORD, bearer_of, error_code, login, post_json
from tests.support.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "expires_at", ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z", "2040-01-01T00:00:00Z"]
)
def test_an_api_key_expiry_beyond_ten_years_is_a_422(client, user, expires_at):
    tokens = login(client, user.email).json()

    response = post_json(
        client,
        "/auth/api-keys",
        {"name": "far", "expires_at": expires_at, "current_password": PASSWORD},
        **bearer_of(tokens),
    )

    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"][0]["field"] == "expires_at"
    assert not ApiKey.objects.exists()
    assert client.get("/api/v1/auth/api-keys", **bearer_of(tokens)).status_code == 200


def test_an_api_key_expiry_is_answered_in_utc(client, user):
    tokens = login(client, user.email).json()

    response = post_json(
        client,
        "/auth/api-keys",
        {"name": "soon", "expires_at": "2027-06-01T10:00:00-03:00", "current_password": PASSWORD},
        **bearer_of(tokens),
    )

    assert response.status_code == 201, response.content
    assert response.json()["expires_at"] in ("2027-06-01T13:00:00Z", "2027-06-01T13:00:00+00:00")


@pytest.mark.parametrize("spelling", [" {email}", "{email}  ", "\t{upper}\u2003"])
def test_the_account_lockout_holds_for_every_spelling_of_the_address(client, user, spelling):
    for n in range(5):
        login(client, user.email, "wrong", REMOTE_ADDR=f"198.51.100.{n + 1}")
    email = spelling.format(email=user.email, upper=user.email.upper())

    response = login(client, email, REMOTE_ADDR="203.0.113.50")

    assert response.status_code == 429, response.content
    assert error_code(response) == "login_locked"
    assert not RefreshToken.objects.filter(user=user).exists()


def test_a_form_body_on_a_cookie_authenticated_json_endpoint_is_a_415(user, settings):
    settings.AUTH_COOKIE_SECURE = False
    browser = Client(enforce_csrf_checks=True)
    csrf = login(browser, user.email, mode="cookie").json()["csrf_token"]

    response = browser.post(
        "/api/v1/auth/password/change",
        b"--B--\r\n",
        content_type="multipart/form-data; boundary=B",
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert response.status_code == 415, response.content
    assert error_code(response) == "unsupported_media_type"
    assert response.json()["error"]["request_id"]


def test_deleting_a_user_in_the_admin_is_audited_without_their_address(
    admin_client, admin, user, audit_events
):
    response = admin_client.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    [event] = audit_events(action="user.deleted")
    assert event.entity_id == str(user.pk)
    assert event.details == {
        "role": "user",
        "deleted_refresh_tokens": 0,
        "deleted_api_key_prefix": [],
    }
    assert event.source == "admin" and event.actor_user_id == str(admin.pk)
    assert user.email not in str(event.details)


def test_the_last_admin_cannot_be_deleted_in_the_admin(admin_client, admin, audit_events):
    admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [str(admin.pk)], "post": "yes"},
    )

    assert User.objects.filter(pk=admin.pk, role=Role.ADMIN).exists()
    assert audit_events(action="user.deleted") == []


def test_another_admin_can_be_deleted_in_bulk(admin_client, audit_events):
    other = AdminFactory()

    admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [str(other.pk)], "post": "yes"},
    )

    assert not User.objects.filter(pk=other.pk).exists()
    assert [event.entity_id for event in audit_events(action="user.deleted")] == [str(other.pk)]


def test_keys_tokens_and_sessions_cannot_be_deleted_in_the_admin(admin_client, user):
    api_key, _ = api_key_create(user=user, name="ci")
    login(Client(), user.email)
    token = RefreshToken.objects.get()

    for path in (
        f"/admin/accounts/apikey/{api_key.pk}/delete/",
        f"/admin/accounts/refreshtoken/{token.pk}/delete/",
    ):
        assert admin_client.post(path, {"post": "yes"}).status_code == 403, path

    assert ApiKey.objects.filter(pk=api_key.pk).exists()
    assert RefreshToken.objects.filter(pk=token.pk).exists()


def test_revoking_a_session_in_the_admin_is_audited(admin_client, user, audit_events):
    tokens = login(Client(), user.email).json()
    family = RefreshToken.objects.get().family

    admin_client.post(
        "/admin/accounts/refreshtoken/",
        {
            "action": "revoke_family",
            "_selected_action": [str(RefreshToken.objects.get().pk)],
            "post": "yes",
        },
    )

    assert RefreshToken.objects.get().revoked_at is not None
    [event] = audit_events(action="auth.session.revoked")
    assert event.entity_id == str(user.pk) and event.source == "admin"
    assert event.details == {"family": str(family), "revoked_refresh_tokens": 1}
    spent = post_json(Client(), "/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert spent.status_code == 401

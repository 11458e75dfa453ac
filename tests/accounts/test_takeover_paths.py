"""Issue 10, account takeover: a stolen access token can no longer change the e-mail or mint an
API key without the password, revoked sessions take their access tokens with them, and a
password reset leaves a pre-registered squatter no credential."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_tasks_db.models import DBTaskResult

from accounts.models import ApiKey, RefreshToken, User
from tests.accounts.helpers import PASSWORD, bearer_of, error_code, login, post_json
from tests.support.http import assert_error, patch_json

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-8"


# --- recent authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [(None, "reauthentication_required"), ("not-my-password", "invalid_credentials")],
)
def test_an_email_change_needs_the_current_password(client, user, password, code, audit_events):
    tokens = login(client, user.email).json()
    body = {"email": "thief@example.net", **({"current_password": password} if password else {})}

    response = patch_json(client, "/auth/me", body, **bearer_of(tokens))

    assert_error(response, 403, code)
    user.refresh_from_db()
    assert user.email != "thief@example.net" and user.email_verified_at is not None
    assert audit_events(action="user.updated") == []
    assert not DBTaskResult.objects.exists()  # neither a verification mail nor a notice
    failed = audit_events(action="auth.reauthentication.failed")
    assert len(failed) == (1 if password else 0)


def test_an_email_change_is_told_to_the_old_address(client, user, run_tasks, audit_events):
    old_email = user.email
    tokens = login(client, user.email).json()

    response = patch_json(
        client,
        "/auth/me",
        {"email": "new-home@example.org", "current_password": PASSWORD},
        **bearer_of(tokens),
    )
    run_tasks()

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "new-home@example.org"
    assert response.json()["email_verified_at"] is None
    [notice] = [message for message in mail.outbox if message.to == [old_email]]
    assert notice.subject == "The e-mail address of your Parecer account was changed"
    assert "new-home@example.org" in notice.body and old_email in notice.body
    assert "new-home@example.org" in notice.alternatives[0].content
    [verification] = [message for message in mail.outbox if message.to == ["new-home@example.org"]]
    assert "verify-email?uid=" in verification.body
    [event] = audit_events(action="user.updated")
    assert event.details["email"] == {"before": old_email, "after": "new-home@example.org"}


@pytest.mark.parametrize(
    ("password", "status", "code"),
    [(None, 422, "validation_error"), ("not-my-password", 403, "invalid_credentials")],
)
def test_an_api_key_needs_the_current_password(client, user, password, status, code, audit_events):
    tokens = login(client, user.email).json()
    body = {"name": "exfiltrate", **({"current_password": password} if password else {})}

    response = post_json(client, "/auth/api-keys", body, **bearer_of(tokens))

    error = assert_error(response, status, code)
    if status == 422:
        assert [detail["field"] for detail in error["details"]] == ["current_password"]
    assert not ApiKey.objects.exists()
    assert audit_events(action="auth.api_key.created") == []


def test_wrong_current_passwords_count_toward_the_sign_in_lockout(client, user, audit_events):
    tokens = login(client, user.email).json()
    guesses = [
        post_json(
            client,
            "/auth/password/change",
            {"current_password": f"guess-{n}", "new_password": NEW_PASSWORD},
            REMOTE_ADDR=f"198.51.100.{n + 1}",
            **bearer_of(tokens),
        )
        for n in range(5)
    ]

    right = post_json(
        client,
        "/auth/password/change",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        **bearer_of(tokens),
    )

    assert {error_code(guess) for guess in guesses} == {"invalid_credentials"}
    assert {guess.status_code for guess in guesses} == {403}
    assert_error(right, 429, "login_locked")
    assert int(right["Retry-After"]) >= 1
    assert_error(login(client, user.email), 429, "login_locked")  # the same account counter
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    events = audit_events(action="auth.reauthentication.failed")
    assert [event.details["locked_out"] for event in events] == [False] * 4 + [True]
    assert audit_events(action="auth.password.changed") == []


# --- revoked sessions take their access tokens with them ----------------------------------------


def test_logout_everywhere_ends_every_access_token_at_once(client, user, audit_events):
    laptop = login(client, user.email).json()
    phone = login(client, user.email).json()

    response = post_json(client, "/auth/logout", {"everywhere": True}, **bearer_of(laptop))

    assert response.status_code == 204
    for tokens in (laptop, phone):
        stale = client.get("/api/v1/auth/me", **bearer_of(tokens))
        assert_error(stale, 401, "invalid_token")
        assert stale["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    user.refresh_from_db()
    assert user.token_version == 1
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    [event] = audit_events(action="auth.logout")
    assert event.details == {"scope": "all_sessions"}
    fresh = login(client, user.email).json()  # signing in again works, with the new version
    assert client.get("/api/v1/auth/me", **bearer_of(fresh)).status_code == 200


def test_password_change_ends_every_access_token_including_the_callers(client, user, audit_events):
    laptop = login(client, user.email).json()
    phone = login(client, user.email).json()

    response = post_json(
        client,
        "/auth/password/change",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        **bearer_of(laptop),
    )

    assert response.status_code == 204
    for tokens in (laptop, phone):
        assert_error(client.get("/api/v1/auth/me", **bearer_of(tokens)), 401, "invalid_token")
    [event] = audit_events(action="auth.password.changed")
    assert event.details == {"revoked_refresh_tokens": 2}
    assert User.objects.get(pk=user.pk).token_version == 1


def test_logout_of_this_session_without_its_refresh_token_ends_nothing(client, user, audit_events):
    laptop = login(client, user.email).json()
    phone = login(client, user.email).json()

    response = post_json(client, "/auth/logout", {"everywhere": False}, **bearer_of(laptop))

    error = assert_error(response, 422, "refresh_token_required")
    assert error["details"][0]["field"] == "refresh_token"
    assert RefreshToken.objects.filter(user=user, revoked_at__isnull=True).count() == 2
    assert client.get("/api/v1/auth/me", **bearer_of(phone)).status_code == 200
    assert audit_events(action="auth.logout") == []


# --- pre-hijacking: a squatter's credentials do not survive the owner's reset ------------------


def test_api_keys_wait_for_a_verified_address(client, audit_events):
    registered = post_json(
        client, "/auth/register", {"email": "victim@example.com", "password": PASSWORD}
    )
    assert registered.status_code == 201
    tokens = login(client, "victim@example.com").json()
    body = {"name": "persistence", "current_password": PASSWORD}

    refused = post_json(client, "/auth/api-keys", body, **bearer_of(tokens))

    assert_error(refused, 403, "email_unverified")
    assert not ApiKey.objects.exists()
    assert audit_events(action="auth.api_key.created") == []
    User.objects.filter(email="victim@example.com").update(email_verified_at="2026-01-01T00:00Z")
    assert post_json(client, "/auth/api-keys", body, **bearer_of(tokens)).status_code == 201


def test_a_password_reset_revokes_api_keys_and_every_session(client, user, run_tasks, audit_events):
    tokens = login(client, user.email).json()
    created = post_json(
        client,
        "/auth/api-keys",
        {"name": "squatter", "scope": "read+write", "current_password": PASSWORD},
        **bearer_of(tokens),
    ).json()
    assert client.get("/api/v1/auth/me", HTTP_X_API_KEY=created["key"]).status_code == 200
    post_json(client, "/auth/password/reset", {"email": user.email})
    run_tasks()
    uid, token = re.search(r"uid=([\w-]+)&token=([\w-]+)", mail.outbox[-1].body).groups()

    done = post_json(
        client,
        "/auth/password/reset/confirm",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
    )

    assert done.status_code == 204
    assert_error(
        client.get("/api/v1/auth/me", HTTP_X_API_KEY=created["key"]), 401, "not_authenticated"
    )
    assert_error(client.get("/api/v1/auth/me", **bearer_of(tokens)), 401, "invalid_token")
    refresh = post_json(client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert_error(refresh, 401, "invalid_token")
    assert ApiKey.objects.get(pk=created["id"]).revoked_at is not None
    [event] = audit_events(action="auth.password.reset")
    assert event.details == {"revoked_refresh_tokens": 1, "revoked_api_keys": 1}
    assert event.actor_user_id == str(user.pk)


def test_a_password_change_keeps_the_api_keys(client, user):
    tokens = login(client, user.email).json()
    created = post_json(
        client,
        "/auth/api-keys",
        {"name": "ci", "current_password": PASSWORD},
        **bearer_of(tokens),
    ).json()

    post_json(
        client,
        "/auth/password/change",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        **bearer_of(tokens),
    )

    assert client.get("/api/v1/auth/me", HTTP_X_API_KEY=created["key"]).status_code == 200
    assert ApiKey.objects.get(pk=created["id"]).revoked_at is None


def test_reactivation_does_not_revive_old_access_tokens(client, user, admin, bearer):
    tokens = login(client, user.email).json()
    client.delete(f"/api/v1/users/{user.pk}", **bearer(admin))

    patch_json(client, f"/users/{user.pk}", {"is_active": True}, **bearer(admin))

    assert_error(client.get("/api/v1/auth/me", **bearer_of(tokens)), 401, "invalid_token")
    assert User.objects.get(pk=user.pk).is_active


def test_a_stale_copy_of_the_user_cannot_write_an_old_token_version_back(client, user):
    stale = User.objects.get(pk=user.pk)  # say, a back-office form loaded before the logout
    tokens = login(client, user.email).json()
    post_json(client, "/auth/logout", {"everywhere": True}, **bearer_of(tokens))

    stale.full_name = "Edited in the back office"
    stale.save()

    user.refresh_from_db()
    assert user.token_version == 1 and user.full_name == "Edited in the back office"
    assert_error(client.get("/api/v1/auth/me", **bearer_of(tokens)), 401, "invalid_token")


def test_a_squatter_who_registered_the_victims_address_keeps_nothing_after_the_reset(
    run_tasks, audit_events
):
    squatter, victim = Client(), Client()
    post_json(squatter, "/auth/register", {"email": "victim@example.com", "password": PASSWORD})
    held = login(squatter, "victim@example.com").json()
    key = post_json(
        squatter,
        "/auth/api-keys",
        {"name": "persistence", "current_password": PASSWORD},
        **bearer_of(held),
    )
    assert_error(key, 403, "email_unverified")

    post_json(victim, "/auth/password/reset", {"email": "victim@example.com"})
    run_tasks()
    [reset_mail] = [m for m in mail.outbox if "reset-password?uid=" in m.body]
    uid, token = re.search(r"uid=([\w-]+)&token=([\w-]+)", reset_mail.body).groups()
    done = post_json(
        victim,
        "/auth/password/reset/confirm",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
    )

    assert done.status_code == 204
    assert_error(squatter.get("/api/v1/auth/me", **bearer_of(held)), 401, "invalid_token")
    spent = post_json(squatter, "/auth/refresh", {"refresh_token": held["refresh_token"]})
    assert_error(spent, 401, "invalid_token")
    assert not ApiKey.objects.exists()
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()
    [event] = audit_events(action="auth.password.reset")
    assert event.details == {"revoked_refresh_tokens": 1, "revoked_api_keys": 0}
    assert login(victim, "victim@example.com", NEW_PASSWORD).status_code == 200

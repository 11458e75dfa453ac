"""Password hashing, change and the single-use reset link."""

import json
import re

import pytest
from django.core import mail

from accounts.models import RefreshToken
from config.settings import base
from tests.accounts.helpers import PASSWORD, bearer_of, error_code, login, post_json

pytestmark = pytest.mark.django_db


def test_argon2id_comes_first_in_production():
    assert base.PASSWORD_HASHERS[0] == "accounts.hashers.TunedArgon2PasswordHasher"
    from accounts.hashers import TunedArgon2PasswordHasher

    hasher = TunedArgon2PasswordHasher()
    encoded = hasher.encode("pw", hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.verify("pw", encoded)


def test_change_needs_the_current_password(client, user, bearer, audit_events):
    response = post_json(
        client,
        "/auth/password/change",
        {"current_password": "wrong", "new_password": "x-long-enough-pass-1"},
        **bearer(user),
    )

    # 403, not 401: the session is fine (a frontend reads 401 as "signed out").
    assert response.status_code == 403
    assert error_code(response) == "invalid_credentials"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    [event] = audit_events(action="auth.reauthentication.failed")
    assert event.entity_id == str(user.pk) and event.details == {"locked_out": False}


def _request_reset(client, run_tasks, email: str) -> tuple[str, str]:
    response = post_json(client, "/auth/password/reset", {"email": email})
    assert response.status_code == 202
    run_tasks()
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", mail.outbox[-1].body)
    return match[1], match[2]


def test_reset_for_unknown_email_is_202_and_sends_nothing(client, run_tasks):
    response = post_json(client, "/auth/password/reset", {"email": "nobody@example.com"})
    run_tasks()

    assert response.status_code == 202
    assert mail.outbox == []


def test_reset_link_sets_the_password_once_and_ends_sessions(client, user, run_tasks, audit_events):
    tokens = login(client, user.email).json()
    uid, token = _request_reset(client, run_tasks, user.email)
    assert mail.outbox[0].to == [user.email]

    done = post_json(
        client,
        "/auth/password/reset/confirm",
        {"uid": uid, "token": token, "new_password": "brand-new-passphrase-3"},
    )
    again = post_json(
        client,
        "/auth/password/reset/confirm",
        {"uid": uid, "token": token, "new_password": "another-passphrase-4"},
    )

    assert done.status_code == 204
    assert again.status_code == 422
    assert error_code(again) == "invalid_reset_link"
    assert login(client, user.email, "brand-new-passphrase-3").status_code == 200
    assert (
        post_json(client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code
        == 401
    )
    stale = client.get("/api/v1/auth/me", **bearer_of(tokens))  # access tokens end at once too
    assert stale.status_code == 401 and error_code(stale) == "invalid_token"
    [event] = audit_events(action="auth.password.reset")
    assert event.actor_user_id == str(user.pk)
    assert event.request_id == done["X-Request-ID"]
    everything = json.dumps([e.details for e in audit_events()])
    assert token not in everything and "brand-new-passphrase-3" not in everything


def test_reset_link_expires_after_an_hour(client, user, run_tasks, settings, monkeypatch):
    uid, token = _request_reset(client, run_tasks, user.email)
    from accounts.tokens import password_reset_tokens

    monkeypatch.setattr(
        password_reset_tokens,
        "_now",
        lambda: __import__("datetime").datetime.now() + __import__("datetime").timedelta(hours=2),
    )

    response = post_json(
        client,
        "/auth/password/reset/confirm",
        {"uid": uid, "token": token, "new_password": "brand-new-passphrase-3"},
    )

    assert response.status_code == 422


def test_reset_confirm_rejects_garbage(client):
    response = post_json(
        client,
        "/auth/password/reset/confirm",
        {"uid": "zzz", "token": "t", "new_password": "brand-new-passphrase-3"},
    )

    assert response.status_code == 422
    assert error_code(response) == "invalid_reset_link"
    assert not RefreshToken.objects.exists()

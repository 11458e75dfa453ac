"""API keys: shown once, stored hashed, scoped, revocable at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKey
from accounts.tokens import sha256_hex
from tests.accounts.helpers import PASSWORD, error_code, post_json
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def _create(client, bearer, user, **body):
    body = {"name": "billing sync", "current_password": PASSWORD, **body}
    return post_json(client, "/auth/api-keys", body, **bearer(user))


def test_key_is_shown_once_and_stored_as_a_hash(client, user, bearer, audit_events):
    response = _create(client, bearer, user, scope="read+write")

    assert response.status_code == 201
    body = response.json()
    secret = body["key"]
    assert secret.startswith(body["prefix"] + "_")
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.key_hash == sha256_hex(secret)
    listed = client.get("/api/v1/auth/api-keys", **bearer(user)).json()
    assert listed["count"] == 1 and listed["page"] == 1 and listed["page_size"] == 20
    [item] = listed["items"]
    assert set(item) == {
        "id",
        "name",
        "prefix",
        "scope",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    }
    [event] = audit_events(action="auth.api_key.created")
    assert secret not in str(event.details)
    assert event.details["key_prefix"] == body["prefix"]


def test_key_authenticates_and_records_last_use(client, user, bearer):
    secret = _create(client, bearer, user).json()["key"]

    response = client.get("/api/v1/auth/me", HTTP_X_API_KEY=secret)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)
    assert ApiKey.objects.get().last_used_at is not None


def test_read_key_cannot_write(client, user, bearer):
    secret = _create(client, bearer, user, scope="read").json()["key"]

    response = post_json(
        client, "/audits", {"action": "a.b", "entity_type": "x"}, HTTP_X_API_KEY=secret
    )

    assert response.status_code == 403
    assert error_code(response) == "insufficient_scope"


def test_revocation_takes_effect_immediately(client, user, bearer, audit_events):
    created = _create(client, bearer, user).json()
    assert client.get("/api/v1/auth/me", HTTP_X_API_KEY=created["key"]).status_code == 200

    response = client.delete(f"/api/v1/auth/api-keys/{created['id']}", **bearer(user))

    assert response.status_code == 204
    refused = client.get("/api/v1/auth/me", HTTP_X_API_KEY=created["key"])
    assert refused.status_code == 401
    assert error_code(refused) == "not_authenticated"
    assert len(audit_events(action="auth.api_key.revoked")) == 1


def test_expired_key_is_401(client, user, bearer):
    created = _create(
        client, bearer, user, expires_at=(timezone.now() + timedelta(days=1)).isoformat()
    ).json()
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get("/api/v1/auth/me", HTTP_X_API_KEY=created["key"]).status_code == 401


def test_expiry_in_the_past_is_422(client, user, bearer):
    response = _create(client, bearer, user, expires_at="2001-01-01T00:00:00Z")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "expires_at"


def test_unknown_scope_is_422(client, user, bearer):
    assert _create(client, bearer, user, scope="admin").status_code == 422


def test_another_users_key_is_404_and_stays_valid(client, user, bearer):
    other = UserFactory()
    theirs = _create(client, bearer, other).json()

    response = client.delete(f"/api/v1/auth/api-keys/{theirs['id']}", **bearer(user))

    assert response.status_code == 404
    assert client.get("/api/v1/auth/me", HTTP_X_API_KEY=theirs["key"]).status_code == 200


def test_key_of_a_deactivated_user_is_401(client, user, bearer):
    secret = _create(client, bearer, user).json()["key"]
    user.is_active = False
    user.save()

    assert client.get("/api/v1/auth/me", HTTP_X_API_KEY=secret).status_code == 401


def test_keys_created_in_the_same_instant_page_without_repeats_or_gaps(client, user, bearer):
    ids = {_create(client, bearer, user).json()["id"] for _ in range(4)}
    ApiKey.objects.filter(user=user).update(created_at=timezone.now())

    paged = [
        client.get(f"/api/v1/auth/api-keys?page={page}&page_size=1", **bearer(user)).json()
        for page in range(1, 5)
    ]

    assert [body["count"] for body in paged] == [4, 4, 4, 4]
    assert {body["items"][0]["id"] for body in paged} == ids

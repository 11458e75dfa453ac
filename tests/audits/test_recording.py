"""Recording: what an event holds, who it names, where it came from, and that it shares the fate
of the change it describes (same transaction; tasks carry the context of whoever started them)."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import ApiKey
from audits.chain import chain_verify
from audits.models import AuditChainHead, AuditEvent
from audits.services import audit_event_record
from core import context
from tests.audits.helpers import patch_json, post_event
from tests.audits.tasks_for_tests import thing_audit_in_background
from tests.support.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REQUEST_ID = "client-req-0001"


def test_a_change_through_the_api_records_who_what_when_and_where(client, user, bearer):
    before = timezone.now()

    response = patch_json(
        client, "/auth/me", {"full_name": "Ada Lovelace"},
        HTTP_X_REQUEST_ID=REQUEST_ID, HTTP_USER_AGENT="parecer-web/2.1", REMOTE_ADDR="203.0.113.7",
        **bearer(user),
    )  # fmt: skip

    assert response.status_code == 200, response.content
    assert response["X-Request-ID"] == REQUEST_ID
    [event] = AuditEvent.objects.all()
    assert isinstance(event.id, uuid.UUID)
    assert event.sequence == 1
    assert before <= event.occurred_at <= timezone.now()
    assert (event.action, event.entity_type, event.entity_id) == (
        "user.updated",
        "user",
        str(user.pk),
    )
    assert (event.actor_type, event.actor_user_id, event.actor_api_key_id) == (
        "user",
        str(user.pk),
        "",
    )
    assert event.actor_label == user.email
    assert event.request_id == REQUEST_ID
    assert event.ip == "203.0.113.7"
    assert event.user_agent == "parecer-web/2.1"
    assert event.source == "api"
    # An update stores only what changed, before and after.
    assert event.details == {"full_name": {"before": user.full_name, "after": "Ada Lovelace"}}
    assert (event.status, event.review_note, event.reviewed_by_id, event.reviewed_at) == (
        "open",
        "",
        "",
        None,
    )


def test_an_admin_update_stores_only_the_changed_fields(client, admin, bearer):
    target = UserFactory(full_name="Grace Hopper")

    response = patch_json(
        client,
        f"/users/{target.pk}",
        {"role": "staff", "full_name": "Grace Hopper"},
        **bearer(admin),
    )

    assert response.status_code == 200, response.content
    [event] = AuditEvent.objects.filter(entity_id=str(target.pk))
    assert event.action == "user.role.changed"
    assert event.details == {"role": {"before": "user", "after": "staff"}}
    assert event.actor_user_id == str(admin.pk)


def test_sequences_follow_recording_order():
    first = audit_event_record(action="thing.done", entity_type="thing")
    second = audit_event_record(action="thing.done", entity_type="thing")

    assert (first.sequence, second.sequence) == (1, 2)
    assert AuditChainHead.objects.get().sequence == 2
    assert first.actor_type == "system" and first.actor_label == "system"


def test_a_write_key_is_named_as_the_actor(client, user, api_key_headers):
    response = post_event(client, api_key_headers(user, "read+write"))

    assert response.status_code == 201, response.content
    key = ApiKey.objects.get(user=user, scope="read+write")
    assert response.json()["actor"] == {
        "type": "api_key",
        "id": str(user.pk),
        "api_key_id": str(key.pk),
        "label": f"{user.email} (key {key.prefix})",
    }
    stored = AuditEvent.objects.get(pk=response.json()["id"])
    assert stored.actor_api_key_id == str(key.pk)


# --- secrets never land -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["password", "new_password", "passwd", "secret", "client_secret", "token", "access_token",
     "refresh_token", "api_key", "apiKey", "X-API-Key", "Authorization", "cookie", "password_hash"],
)  # fmt: skip
def test_secret_looking_keys_are_redacted_at_any_depth(key):
    event = audit_event_record(
        action="thing.done",
        entity_type="thing",
        details={key: "hunter2-s3cr3t", "nested": {"list": [{key: "hunter2-s3cr3t"}]}},
    )

    event.refresh_from_db()
    assert event.details == {key: "[redacted]", "nested": {"list": [{key: "[redacted]"}]}}
    assert "hunter2" not in json.dumps(event.details)
    assert chain_verify().ok


def test_harmless_neighbours_of_secret_words_are_kept():
    details = {
        "api_key_id": "a1b2",
        "key_prefix": "prc_ab",
        "token_type": "bearer",
        "revoked_tokens": 3,
        "password_changed_at": "2026-01-01T00:00:00Z",
        "mfa_enabled": True,
    }

    event = audit_event_record(action="thing.done", entity_type="thing", details=details)

    event.refresh_from_db()
    assert event.details == details


def test_a_secret_posted_by_a_client_is_redacted_in_the_response_and_the_row(client, user, bearer):
    response = post_event(
        client, bearer(user), details={"amount": 12, "auth": {"password": "hunter2-s3cr3t"}}
    )

    assert response.status_code == 201
    assert response.json()["details"] == {"amount": 12, "auth": {"password": "[redacted]"}}
    stored = AuditEvent.objects.get(pk=response.json()["id"])
    assert "hunter2" not in json.dumps(stored.details)


def test_numeric_passwords_and_pins_are_redacted_too():
    # A numeric password, PIN or one-time code under a secret key is a secret all the same.
    event = audit_event_record(
        action="thing.done",
        entity_type="thing",
        details={"password": 73915482, "otp_token": 123456},
    )

    event.refresh_from_db()
    assert event.details == {"password": "[redacted]", "otp_token": "[redacted]"}


def test_a_private_key_is_redacted():
    # "private key" is a secret phrase, like "api key" and "signing key".
    event = audit_event_record(
        action="thing.done",
        entity_type="thing",
        details={"private_key": "-----BEGIN PRIVATE KEY-----MIIE"},
    )

    event.refresh_from_db()
    assert event.details == {"private_key": "[redacted]"}


@pytest.mark.parametrize(
    "key",
    ["token_budget", "tokens_used", "input_tokens", "outputTokens", "prompt_hash", "content_hash",
     "rendered_sha256", "passage", "compass", "password_changed_at", "api_key_id", "sessions"],
)  # fmt: skip
def test_provenance_keys_that_merely_contain_a_secret_word_are_kept(key):
    details = {key: "kept-as-is", "nested": [{key: 42}]}

    event = audit_event_record(action="thing.done", entity_type="thing", details=details)

    event.refresh_from_db()
    assert event.details == details
    assert chain_verify().ok


def test_a_caller_marks_extra_sensitive_keys_by_name():
    event = audit_event_record(
        action="thing.done",
        entity_type="thing",
        details={"customer_reference": "ACME-7731", "nested": {"customer_reference": "x"}},
        sensitive_keys=frozenset({"customer_reference"}),
    )

    event.refresh_from_db()
    assert event.details == {
        "customer_reference": "[redacted]",
        "nested": {"customer_reference": "[redacted]"},
    }


# --- where the request came from ------------------------------------------------------------------


def test_the_socket_address_is_used_and_forwarded_for_is_ignored_without_a_trusted_proxy(
    client, user, bearer, settings
):
    settings.TRUSTED_PROXIES = []

    response = post_event(
        client, {**bearer(user), "REMOTE_ADDR": "198.51.100.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    )

    assert response.status_code == 201
    assert response.json()["ip"] == "198.51.100.5"
    assert AuditEvent.objects.get(pk=response.json()["id"]).ip == "198.51.100.5"


def test_forwarded_for_from_an_untrusted_address_is_ignored(client, user, bearer, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]

    response = post_event(
        client, {**bearer(user), "REMOTE_ADDR": "10.0.0.99", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    )

    assert response.json()["ip"] == "10.0.0.99"


@pytest.mark.parametrize(
    ("forwarded_for", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        # The client may prepend anything; the hop the proxy appended is the one to believe.
        ("6.6.6.6, 1.2.3.4", "1.2.3.4"),
        # Through two trusted proxies, the first untrusted hop from the right is the client.
        ("1.2.3.4, 10.0.0.3", "1.2.3.4"),
        ("not-an-ip", "10.0.0.2"),
        ("", "10.0.0.2"),
    ],
)
def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    client, user, bearer, settings, forwarded_for, expected
):
    settings.TRUSTED_PROXIES = ["10.0.0.2", "10.0.0.3"]

    response = post_event(
        client,
        {**bearer(user), "REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": forwarded_for,
         "HTTP_USER_AGENT": "billing-sync/1.0"},
    )  # fmt: skip

    assert response.status_code == 201
    body = response.json()
    assert (body["ip"], body["user_agent"]) == (expected, "billing-sync/1.0")
    assert AuditEvent.objects.get(pk=body["id"]).ip == expected


def test_a_long_user_agent_is_cut_and_still_verifies(client, user, bearer):
    response = post_event(client, {**bearer(user), "HTTP_USER_AGENT": "x" * 600})

    assert len(response.json()["user_agent"]) == 512
    assert chain_verify().ok


def test_a_client_request_id_is_kept_and_an_unsafe_one_is_replaced(client, user, bearer):
    kept = post_event(client, {**bearer(user), "HTTP_X_REQUEST_ID": REQUEST_ID})
    replaced = post_event(client, {**bearer(user), "HTTP_X_REQUEST_ID": "bad id\nInjected: yes"})

    assert kept.json()["request_id"] == kept["X-Request-ID"] == REQUEST_ID
    assert replaced.json()["request_id"] == replaced["X-Request-ID"]
    assert "Injected" not in replaced["X-Request-ID"]


# --- same transaction as the change -----------------------------------------------------------------


def test_a_rolled_back_change_leaves_no_event_and_no_gap():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_event_record(action="thing.done", entity_type="thing")
        raise RuntimeError("the change failed")

    assert not AuditEvent.objects.exists()
    later = audit_event_record(action="thing.done", entity_type="thing")
    assert later.sequence == 1
    assert chain_verify().ok


def test_a_failed_api_change_leaves_no_event(client, user, bearer):
    other = UserFactory()

    body = {"email": other.email, "current_password": DEFAULT_PASSWORD}
    response = patch_json(client, "/auth/me", body, **bearer(user))

    assert response.status_code == 409
    assert not AuditEvent.objects.exists()


# --- background work carries the context of whoever started it ------------------------------------


def test_a_task_records_with_the_actor_and_request_id_of_whoever_enqueued_it(user, run_tasks):
    started_by = context.RequestContext(
        request_id="req-enqueued-1234",
        source="api",
        actor_user_id=str(user.pk),
        actor_label=user.email,
        ip="203.0.113.7",
        user_agent="parecer-web/2.1",
    )
    with context.bound(started_by):
        context.enqueue(thing_audit_in_background, entity_id="t-1")

    run_tasks()

    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL", result.traceback
    [event] = AuditEvent.objects.filter(action="thing.processed")
    assert str(event.pk) == result.return_value
    assert event.source == "task"
    assert (event.actor_type, event.actor_user_id, event.actor_label) == (
        "user",
        str(user.pk),
        user.email,
    )
    assert event.request_id == "req-enqueued-1234"
    assert event.ip == "203.0.113.7"


def test_occurred_at_defaults_to_now_and_is_stored_in_utc():
    yesterday = timezone.now() - timedelta(days=1)

    event = audit_event_record(action="thing.done", entity_type="thing", occurred_at=yesterday)

    event.refresh_from_db()
    assert event.occurred_at == yesterday
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_an_append_that_fails_outside_any_transaction_leaves_the_head_where_it_was():
    from django.db import IntegrityError

    from audits.append import event_append
    from audits.models import AuditChainHead, AuditEvent

    first = audit_event_record(action="thing.done", entity_type="thing")
    clash = AuditEvent(
        id=first.id,  # the INSERT fails after the head was advanced
        occurred_at=timezone.now(),
        action="thing.done",
        entity_type="thing",
        actor_type="system",
        actor_label="system",
        source="system",
        details={},
        details_digest=first.details_digest,
    )

    with pytest.raises(IntegrityError):
        event_append(clash)

    assert AuditChainHead.objects.get().sequence == 1
    after = audit_event_record(action="thing.done", entity_type="thing")
    assert after.sequence == 2
    assert chain_verify().ok

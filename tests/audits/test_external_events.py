"""POST /audits: another system reports an event; the caller is its actor, the source "external"."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audits.chain import chain_verify
from audits.models import AuditEvent
from audits.services import DETAILS_MAX_BYTES
from tests.audits.helpers import EVENT, error_code, post_event

pytestmark = pytest.mark.django_db

# {"blob":"…"} is the blob plus 11 bytes of JSON around it.
_ENVELOPE = len('{"blob":""}')


def test_an_external_event_is_recorded_with_the_caller_as_actor(client, user, bearer):
    response = post_event(client, {**bearer(user), "HTTP_X_REQUEST_ID": "billing-run-000042"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["action"], body["entity_type"], body["entity_id"]) == (
        "invoice.paid",
        "invoice",
        "inv-42",
    )
    assert body["details"] == {"amount": 12}
    assert body["source"] == "external"
    assert body["actor"] == {
        "type": "user",
        "id": str(user.pk),
        "api_key_id": None,
        "label": user.email,
    }
    assert body["request_id"] == "billing-run-000042"
    assert body["status"] == "open" and body["redacted"] is False
    stored = AuditEvent.objects.get(pk=body["id"])
    assert (stored.sequence, stored.source, stored.actor_user_id) == (
        body["sequence"],
        "external",
        str(user.pk),
    )
    assert chain_verify().ok


def test_a_past_occurred_at_is_kept(client, user, bearer):
    response = post_event(client, bearer(user), occurred_at="2026-01-02T03:04:05+02:00")

    assert response.status_code == 201
    assert response.json()["occurred_at"].startswith("2026-01-02T01:04:05")
    assert chain_verify().ok


def test_an_occurred_at_within_clock_skew_is_accepted(client, user, bearer):
    almost_now = (timezone.now() + timedelta(seconds=2)).isoformat()

    response = post_event(client, bearer(user), occurred_at=almost_now)

    assert response.status_code == 201


def test_a_future_occurred_at_is_refused(client, user, bearer):
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()

    response = post_event(client, bearer(user), occurred_at=tomorrow)

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert response.json()["error"]["details"][0]["field"] == "occurred_at"
    assert not AuditEvent.objects.exists()


def test_an_occurred_at_without_a_time_zone_is_not_a_server_error(client, user, bearer):
    # Guards: a naive occurred_at is read as UTC (the API's only zone), never compared naive
    # against an aware "now" (a TypeError, a 500).
    response = post_event(client, bearer(user), occurred_at="2026-01-02T03:04:05")

    assert response.status_code == 201, response.content
    assert response.json()["occurred_at"] == "2026-01-02T03:04:05Z"


@pytest.mark.parametrize(
    "action",
    ["Not Dotted", "nodots", "invoice..paid", ".invoice.paid", "invoice.paid.", "Invoice.paid",
     "invoice.paid-late", "invoice.*", "1invoice.paid", "a." + "b" * 100],
)  # fmt: skip
def test_a_badly_formed_action_is_refused(client, user, bearer, action):
    response = post_event(client, bearer(user), action=action)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "action"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"sequence": 1},
        {"hmac": "0" * 64},
        {"source": "api"},
        {"actor_user_id": "someone-else"},
        {"status": "resolved"},
        {"entity_type": ""},
        {"entity_type": "x" * 51},
        {"entity_id": "x" * 65},
        {"details": ["not", "an", "object"]},
        {"occurred_at": "yesterday"},
    ],
    ids=lambda changes: next(iter(changes)),
)
def test_unknown_or_invalid_fields_are_refused(client, user, bearer, changes):
    response = post_event(client, bearer(user), **changes)

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert not AuditEvent.objects.exists()


def test_a_missing_required_field_is_refused(client, user, bearer):
    response = client.post(
        "/api/v1/audits",
        {"action": "invoice.paid"},
        content_type="application/json",
        **bearer(user),
    )

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["entity_type"]


def test_details_of_exactly_64_kib_are_accepted(client, user, bearer):
    blob = "x" * (DETAILS_MAX_BYTES - _ENVELOPE)

    response = post_event(client, bearer(user), details={"blob": blob})

    assert response.status_code == 201
    assert len(AuditEvent.objects.get().details["blob"]) == len(blob)


def test_details_one_byte_over_64_kib_are_413(client, user, bearer):
    blob = "x" * (DETAILS_MAX_BYTES - _ENVELOPE + 1)

    response = post_event(client, bearer(user), details={"blob": blob})

    assert response.status_code == 413
    assert error_code(response) == "details_too_large"
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]
    assert not AuditEvent.objects.exists()


def test_non_ascii_details_are_measured_as_sent_not_as_escaped(client, user, bearer):
    # Guards: the 64 KiB cap counts UTF-8 bytes as sent, not the \uXXXX escapes of the canonical
    # form (30,000 "é" are 60 KB sent, 180 KB escaped).
    details = {"blob": "é" * 30_000}
    assert len(json.dumps(details, ensure_ascii=False).encode()) < DETAILS_MAX_BYTES

    response = post_event(client, bearer(user), details=details)

    assert response.status_code == 201, response.json()["error"]


def test_details_round_trip_and_verify(client, user, bearer):
    # Whatever the database does to JSON (jsonb normalises numbers, reorders keys), the sealed
    # digest must still match the row that reads back.
    # Guards (PostgreSQL): jsonb stores 1e20 as 100000000000000000000 and reads back an int; the
    # digest is taken over the normalised value, so verification still matches the row.
    details = {"z": 1, "a": {"big": 1e20, "small": 1.5e-7, "pi": 3.14159}, "é": ["ü", None, True]}

    response = post_event(client, bearer(user), details=details)

    assert response.status_code == 201
    report = chain_verify()
    assert report.ok, report.reason


def test_a_nul_character_in_details_is_refused_never_a_500(client, user, bearer):
    # Guards: jsonb cannot hold \u0000; the body is refused (422 nul_character) before any
    # INSERT could raise a DataError (a 500).
    response = post_event(client, bearer(user), details={"note": "a\u0000b"})

    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "nul_character"
    assert not AuditEvent.objects.exists()
    assert chain_verify().ok


def test_a_request_without_credentials_is_401(client):
    response = post_event(client, {})

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
    assert not AuditEvent.objects.exists()


def test_a_read_key_cannot_record(client, user, api_key_headers):
    response = post_event(client, api_key_headers(user, "read"))

    assert response.status_code == 403
    assert error_code(response) == "insufficient_scope"
    assert not AuditEvent.objects.filter(action=EVENT["action"]).exists()


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_numbers_in_details_are_a_client_error(client, user, bearer, value):
    # Guards: Python's JSON parser accepts NaN/Infinity; the strict parser refuses them
    # (422 invalid_json_number) before the INSERT could fail on SQLite's or jsonb's checks.
    body = '{"action": "invoice.paid", "entity_type": "invoice", "details": {"x": ' + value + "}}"

    response = client.post("/api/v1/audits", body, content_type="application/json", **bearer(user))

    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "invalid_json_number"
    assert not AuditEvent.objects.exists()

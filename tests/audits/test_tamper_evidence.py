"""Changing, deleting or inserting rows behind the application's back breaks the chain at that row,
and both `manage.py audit_verify` and GET /audits/verify say where. Honest rows never alarm."""

import hashlib
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from audits.chain import (
    canonical_json,
    chain_verify,
    checkpoint_signature,
    details_digest,
    seal,
)
from audits.models import AuditEvent
from audits.services import audit_event_record
from core import context
from tests.audits.helpers import post_event, raw_sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail():
    """Five honest events, sequence 1..5."""
    return [
        audit_event_record(
            action="thing.done", entity_type="thing", entity_id=str(n), details={"n": n}
        )
        for n in range(1, 6)
    ]


@pytest.fixture(params=["command", "api"])
def verify(request, client, admin, bearer):
    """Run verification the way an operator would; return the report as a dict."""

    def by_command() -> dict:
        out = io.StringIO()
        try:
            call_command("audit_verify", stdout=out)
        except CommandError as exc:
            report = json.loads(out.getvalue())
            assert f"sequence {report['broken_at_sequence']}" in str(exc)
            assert report["ok"] is False
            return report
        text = out.getvalue()
        assert "audit chain intact" in text
        return json.loads(text[: text.rindex("}") + 1])

    def by_api() -> dict:
        response = client.get("/api/v1/audits/verify", **bearer(admin))
        assert response.status_code == 200, response.content
        return response.json()

    return by_command if request.param == "command" else by_api


def forged_event(*, sequence: int, like: AuditEvent) -> AuditEvent:
    details = {"amount": 1_000_000}
    return AuditEvent(
        id=uuid.uuid4(), sequence=sequence, occurred_at=like.occurred_at, action="money.moved",
        entity_type="account", entity_id="acc-1", actor_type="system", actor_label="system",
        source="system", details=details,
        details_digest=hashlib.sha256(canonical_json(details).encode()).hexdigest(),
        hmac="f" * 64,
    )  # fmt: skip


def test_an_untouched_trail_verifies(trail, verify):
    report = verify()

    assert report == {
        "ok": True,
        "checked": 5,
        "first_sequence": 1,
        "last_sequence": 5,
        "broken_at_sequence": None,
        "broken_event_id": None,
        "reason": "",
        "head_hmac": AuditEvent.objects.get(sequence=5).hmac,
    }


def test_an_empty_trail_verifies(db, verify):
    report = verify()

    assert report["ok"] is True and report["checked"] == 0


def test_a_changed_action_is_caught_at_that_event(trail, verify):
    raw_sql("UPDATE audits_auditevent SET action = 'x.y' WHERE sequence = 3")

    report = verify()

    assert report["ok"] is False
    assert report["broken_at_sequence"] == 3
    assert report["broken_event_id"] == str(trail[2].pk)
    assert report["checked"] == 2 and report["last_sequence"] == 2
    assert "HMAC" in report["reason"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("entity_id", "999"),
        ("entity_type", "other"),
        ("actor_label", "someone-else@example.com"),
        ("actor_user_id", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        ("request_id", "forged-request"),
        ("source", "admin"),
        ("user_agent", "curl/8"),
        ("ip", "192.0.2.1"),
        ("hmac", "0" * 64),
    ],
)
def test_any_sealed_column_changed_is_caught(trail, column, value):
    raw_sql(f"UPDATE audits_auditevent SET {column} = %s WHERE sequence = 4", value)

    report = chain_verify()

    assert (report.ok, report.broken_at_sequence, report.broken_event_id) == (
        False,
        4,
        str(trail[3].pk),
    )


def test_a_moved_occurred_at_is_caught(trail):
    AuditEvent.objects.filter(sequence=2).update(
        occurred_at=trail[1].occurred_at - timedelta(days=1)
    )

    report = chain_verify()

    assert not report.ok and report.broken_at_sequence == 2


def test_changed_details_are_caught(trail, verify):
    raw_sql("UPDATE audits_auditevent SET details = %s WHERE sequence = 2", '{"n": 999}')

    report = verify()

    assert (report["ok"], report["broken_at_sequence"], report["reason"]) == (
        False,
        2,
        "details were altered",
    )
    assert report["broken_event_id"] == str(trail[1].pk)


def test_changed_details_with_a_recomputed_digest_are_caught(trail):
    # The digest is a plain SHA-256 anyone can recompute; the HMAC over it is what needs the key.
    details = {"n": 999}
    digest = hashlib.sha256(canonical_json(details).encode()).hexdigest()
    raw_sql(
        "UPDATE audits_auditevent SET details = %s, details_digest = %s WHERE sequence = 2",
        json.dumps(details),
        digest,
    )

    report = chain_verify()

    assert not report.ok and report.broken_at_sequence == 2


@pytest.mark.parametrize("sequence", [1, 3, 4])
def test_a_deleted_event_before_the_end_is_caught(trail, verify, sequence):
    raw_sql("DELETE FROM audits_auditevent WHERE sequence = %s", sequence)

    report = verify()

    assert report["ok"] is False
    assert report["broken_at_sequence"] == sequence
    # The event found where the missing one should be is the one named.
    assert report["broken_event_id"] == str(trail[sequence].pk)
    assert f"sequence {sequence} is missing" in report["reason"]


def test_a_deleted_last_event_is_caught(trail, verify):
    raw_sql("DELETE FROM audits_auditevent WHERE sequence = 5")

    report = verify()

    assert report["ok"] is False
    assert report["broken_at_sequence"] == 5
    assert report["checked"] == 4
    assert "deleted" in report["reason"]


def test_an_event_appended_with_a_made_up_hmac_is_caught(trail, verify):
    forged = forged_event(sequence=6, like=trail[0])
    forged.save(force_insert=True)

    report = verify()

    assert report["ok"] is False
    assert report["broken_at_sequence"] == 6
    assert report["broken_event_id"] == str(forged.pk)


def test_an_event_inserted_in_the_middle_is_caught(trail, verify):
    raw_sql("UPDATE audits_auditevent SET sequence = sequence + 100 WHERE sequence > 2")
    forged = forged_event(sequence=3, like=trail[0])
    forged.save(force_insert=True)

    report = verify()

    assert report["ok"] is False
    assert report["broken_at_sequence"] == 3
    assert report["broken_event_id"] == str(forged.pk)


@pytest.mark.parametrize("sequence", [0, -1])
def test_an_event_inserted_before_the_start_is_caught(trail, verify, sequence):
    # Guards: verification also looks for rows below the first sequence (or the checkpoint): a
    # forged row with sequence 0 or below would otherwise show in GET /audits and the export
    # while verification said ok.
    forged_event(sequence=sequence, like=trail[0]).save(force_insert=True)

    report = verify()

    assert report["ok"] is False


def test_a_faked_redaction_is_caught(trail, verify):
    raw_sql(
        "UPDATE audits_auditevent SET details = '{}', redacted_at = %s WHERE sequence = 2",
        trail[0].occurred_at,
    )

    report = verify()

    assert report["ok"] is False and report["broken_at_sequence"] == 2
    assert "redact" in report["reason"]


def test_details_written_into_a_redacted_event_are_caught(trail, client, admin, bearer, verify):
    # Guards: a redacted event's details must be exactly {}; details written into it after an
    # honest redaction are reported as tampering.
    client.delete(f"/api/v1/audits/{trail[1].pk}", **bearer(admin))
    assert chain_verify().ok
    raw_sql(
        "UPDATE audits_auditevent SET details = %s WHERE sequence = 2", '{"n": "rewritten later"}'
    )

    report = verify()

    assert report["ok"] is False
    assert report["broken_at_sequence"] == 2


def test_a_head_moved_past_the_end_is_caught(trail):
    raw_sql("UPDATE audits_auditchainhead SET sequence = 9")

    report = chain_verify()

    assert not report.ok and "head says 9" in report.reason


def test_the_chain_depends_on_the_key(trail, settings):
    settings.AUDIT_HMAC_KEY = "another-key-entirely-0123456789abcdef"

    report = chain_verify()

    assert not report.ok and report.broken_at_sequence == 1


def test_review_fields_and_recorded_at_are_outside_the_seal(trail):
    # Reviews change after the fact by design; recorded_at is what retention reads.
    AuditEvent.objects.filter(sequence=2).update(
        status="resolved",
        review_note="ok",
        recorded_at=trail[1].recorded_at - timedelta(days=500),
    )

    assert chain_verify().ok


# --- honest events never alarm -----------------------------------------------------------------


@pytest.mark.parametrize(
    "remote_addr",
    ["203.0.113.7", "2001:DB8::1", "::1", "::ffff:198.51.100.9", "fe80::1%eth0", "::1.2.3.4"],
)
def test_events_from_any_client_address_verify(client, user, bearer, remote_addr):
    # Guards: the sealed address is the one the row stores (no IPv6 zone such as "%eth0", which
    # GenericIPAddressField drops), so a link-local client's event verifies.
    response = post_event(client, {**bearer(user), "REMOTE_ADDR": remote_addr})

    assert response.status_code == 201
    report = chain_verify()
    assert report.ok, report.reason


def test_an_ipv4_client_behind_a_dual_stack_socket_is_recorded_as_ipv4(client, user, bearer):
    response = post_event(client, {**bearer(user), "REMOTE_ADDR": "::ffff:198.51.100.9"})

    assert response.json()["ip"] == "198.51.100.9"
    assert AuditEvent.objects.get(pk=response.json()["id"]).ip == "198.51.100.9"


def test_non_ascii_text_in_sealed_fields_verifies(db):
    ctx = context.RequestContext(
        request_id="pedido-0001", source="api", actor_user_id="", actor_label="José Ñúñez",
        user_agent="Navegador/1.0 (çà)",
    )  # fmt: skip
    with context.bound(ctx):
        audit_event_record(
            action="thing.done", entity_type="coisa", entity_id="façade-1",
            details={"nota": "acção", "emoji": "✓"},
        )  # fmt: skip

    report = chain_verify()
    assert report.ok, report.reason


# --- the seal is a stored contract --------------------------------------------------------------


def test_the_seal_format_does_not_change_silently(settings):
    # Every stored HMAC was computed with this exact canonical form. If this test has to change,
    # every existing trail stops verifying: ship a versioned seal (or a re-seal migration) with it.
    settings.AUDIT_HMAC_KEY = "golden-key-0123456789abcdef0123456789"
    details = {"nota": "acção", "n": 1}
    event = AuditEvent(
        id=uuid.UUID("12345678-1234-5678-1234-567812345678"), sequence=7,
        occurred_at=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), action="thing.done",
        entity_type="coisa", entity_id="façade-1", actor_type="user", actor_user_id="u-1",
        actor_api_key_id="", actor_label="José", request_id="req-1", ip="203.0.113.7",
        user_agent="ua/1", source="api", details=details,
        details_digest=details_digest(details),
    )  # fmt: skip

    assert event.details_digest == (
        "137039aa884c46d667ad734122bcaf21afded19ff75b868c398c73cee3108e52"
    )
    assert seal(previous_hmac="a" * 64, event=event) == (
        "550202eda20e49a7bf7af79d7efc0151a718bba40eb5721373bbd71dc8c4cf46"
    )
    assert checkpoint_signature(sequence=6, last_hmac="b" * 64, pruned_count=6) == (
        "11499ce0200b500ba4d7f63122ad86e44507989a745b74e82a40429f3ecdd16a"
    )

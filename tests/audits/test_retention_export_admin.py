"""Pruning behind a checkpoint, seeding, streamed export, and the admin back office."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audits.chain import chain_verify
from audits.models import AuditCheckpoint, AuditEvent
from audits.services import audit_event_record

pytestmark = pytest.mark.django_db


def _record(n: int) -> list[AuditEvent]:
    return [
        audit_event_record(action="thing.done", entity_type="thing", entity_id=str(i))
        for i in range(n)
    ]


def test_prune_removes_old_events_behind_a_signed_checkpoint(audit_events):
    old = _record(6)
    _record(3)
    AuditEvent.objects.filter(pk__in=[e.pk for e in old]).update(
        recorded_at=timezone.now() - timedelta(days=500)
    )

    call_command("audit_prune", "--older-than", "400d", verbosity=0)

    assert AuditEvent.objects.filter(sequence__lte=6).count() == 0
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.pruned_count) == (6, 6)
    [pruned] = audit_events(action="audit.pruned")
    assert pruned.source == "command" and pruned.details["removed"] == 6
    report = chain_verify()
    assert report.ok and report.first_sequence == 7 and report.checked == 4


def test_a_tampered_checkpoint_fails_verification():
    old = _record(3)
    AuditEvent.objects.filter(pk__in=[e.pk for e in old]).update(
        recorded_at=timezone.now() - timedelta(days=500)
    )
    call_command("audit_prune", "--older-than", "400d", verbosity=0)

    AuditCheckpoint.objects.update(pruned_count=1)

    assert not chain_verify().ok


def test_prune_with_nothing_old_changes_nothing(capsys):
    _record(2)

    call_command("audit_prune", "--older-than", "1d")

    assert AuditEvent.objects.count() == 2
    assert "nothing older" in capsys.readouterr().out


def test_prune_rejects_a_bad_age():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("audit_prune", "--older-than", "forever")


def test_seeded_events_extend_a_valid_chain():
    _record(2)

    call_command("seed_audits", "500", "--batch", "200", verbosity=0)

    assert AuditEvent.objects.count() == 502
    assert chain_verify().ok


def test_export_streams_every_visible_event_oldest_first(client, staff, bearer):
    _record(7)

    ndjson = client.get("/api/v1/audits/export?format=ndjson", **bearer(staff))
    lines = b"".join(ndjson.streaming_content).decode().splitlines()
    as_csv = client.get("/api/v1/audits/export?format=csv&action=thing.done", **bearer(staff))
    rows = list(csv.DictReader(io.StringIO(b"".join(as_csv.streaming_content).decode())))

    assert ndjson["Content-Type"] == "application/x-ndjson"
    assert [json.loads(line)["entity_id"] for line in lines] == [str(i) for i in range(7)]
    assert len(rows) == 7 and rows[0]["action"] == "thing.done"
    assert json.loads(rows[0]["actor"])["type"] == "system"


def test_export_is_for_staff(client, user, bearer):
    response = client.get("/api/v1/audits/export", **bearer(user))

    assert response.status_code == 403


def test_export_pages_through_large_sets(client, staff, bearer, monkeypatch):
    monkeypatch.setattr("audits.selectors.EXPORT_BATCH", 3)
    _record(10)

    response = client.get("/api/v1/audits/export", **bearer(staff))

    assert len(b"".join(response.streaming_content).splitlines()) == 10


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def test_admin_lists_and_shows_events_but_cannot_add_or_delete(admin_client):
    [event] = _record(1)

    assert admin_client.get("/admin/audits/auditevent/", {"q": "thing"}).status_code == 200
    detail = admin_client.get(f"/admin/audits/auditevent/{event.pk}/change/")
    assert detail.status_code == 200 and "thing.done" in detail.content.decode()
    assert admin_client.get("/admin/audits/auditevent/add/").status_code == 403
    assert admin_client.get(f"/admin/audits/auditevent/{event.pk}/delete/").status_code == 403


def test_admin_review_is_audited(admin_client, admin, audit_events):
    [event] = _record(1)

    response = admin_client.post(
        f"/admin/audits/auditevent/{event.pk}/change/",
        {"status": "resolved", "review_note": "fine"},
    )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == "resolved" and event.reviewed_by_id == str(admin.pk)
    [review] = audit_events(action="audit.event.reviewed")
    assert review.source == "admin" and review.actor_user_id == str(admin.pk)


def test_admin_redaction_action_keeps_the_chain(admin_client):
    [event] = _record(1)

    admin_client.post(
        "/admin/audits/auditevent/",
        {"action": "redact_events", "_selected_action": [str(event.pk)]},
    )

    event.refresh_from_db()
    assert event.redacted_at is not None and event.details == {}
    assert chain_verify().ok

"""Retention (`audit_prune` behind a signed checkpoint) and `seed_audits`, both keeping the chain
verifiable."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audits.chain import chain_verify, checkpoint_signature
from audits.models import AuditCheckpoint, AuditEvent
from audits.services import audit_event_record
from tests.audits.helpers import record_system

pytestmark = pytest.mark.django_db


def age(events: list[AuditEvent], *, days: int) -> None:
    # recorded_at is outside the seal (retention reads it), so moving it back is fair.
    AuditEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        recorded_at=timezone.now() - timedelta(days=days)
    )


def prune(*args: str) -> str:
    out = io.StringIO()
    call_command("audit_prune", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_and_new():
    """Six events 500 days old (sequence 1..6), then three recent ones (7..9)."""
    old = record_system(6)
    new = record_system(3)
    age(old, days=500)
    return old, new


def test_prune_removes_old_events_behind_a_signed_checkpoint(old_and_new, client, admin, bearer):
    old, new = old_and_new

    output = prune("--older-than", "400d")

    assert "pruned through sequence 6" in output
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert set(AuditEvent.objects.filter(pk__in=[e.pk for e in new]).values_list("sequence", flat=True)) == {7, 8, 9}  # fmt: skip
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.pruned_count, checkpoint.hmac) == (6, 6, old[-1].hmac)
    assert checkpoint.signature == checkpoint_signature(
        sequence=6, last_hmac=old[-1].hmac, pruned_count=6
    )
    report = chain_verify()
    assert report.ok, report.reason
    assert (report.first_sequence, report.last_sequence, report.checked) == (7, 10, 4)
    api_report = client.get("/api/v1/audits/verify", **bearer(admin)).json()
    assert api_report["ok"] is True and api_report["first_sequence"] == 7
    call_command("audit_verify", stdout=io.StringIO())


def test_the_prune_is_itself_recorded_as_a_command(old_and_new):
    prune("--older-than", "400d")

    [event] = AuditEvent.objects.filter(action="audit.pruned")
    assert event.sequence == 10
    assert event.source == "command"
    assert event.actor_type == "system" and event.actor_label.startswith("command:audit_prune")
    assert event.request_id  # its own id, so its log lines can be found
    assert (event.entity_type, event.entity_id) == (
        "audit_checkpoint",
        str(AuditCheckpoint.objects.get().pk),
    )
    assert event.details["through_sequence"] == 6 and event.details["removed"] == 6
    assert event.details["cutoff"]


def test_prune_defaults_to_the_retention_setting(old_and_new):
    prune()

    assert AuditCheckpoint.objects.get().sequence == 6


def test_prune_in_hours(db):
    old = record_system(2)
    record_system(1)
    age(old, days=1)

    prune("--older-than", "12h")

    assert AuditCheckpoint.objects.get().sequence == 2
    assert chain_verify().ok


def test_prune_with_nothing_old_enough_changes_nothing(db):
    record_system(2)

    output = prune("--older-than", "400d")

    assert "nothing older than 400d" in output
    assert AuditEvent.objects.count() == 2
    assert not AuditCheckpoint.objects.exists()
    assert chain_verify().ok


@pytest.mark.parametrize("value", ["forever", "400", "400y", "-1d", ""])
def test_prune_refuses_a_bad_age(db, value):
    record_system(1)

    with pytest.raises(CommandError, match="--older-than"):
        prune("--older-than", value)

    assert AuditEvent.objects.count() == 1


def test_pruning_twice_keeps_a_running_total_and_a_valid_chain(old_and_new):
    _, new = old_and_new
    prune("--older-than", "400d")
    age(new, days=500)

    prune("--older-than", "400d")

    newest = AuditCheckpoint.objects.order_by("-sequence").first()
    assert (newest.sequence, newest.pruned_count) == (9, 9)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["audit.pruned"] * 2
    report = chain_verify()
    assert report.ok and report.first_sequence == 10


def test_recording_after_a_prune_continues_the_chain(old_and_new, client, user, bearer):
    prune("--older-than", "400d")

    response = client.post(
        "/api/v1/audits", {"action": "invoice.paid", "entity_type": "invoice"},
        content_type="application/json", **bearer(user),
    )  # fmt: skip

    assert response.json()["sequence"] == 11
    assert chain_verify().ok


@pytest.mark.parametrize(
    ("column", "value"),
    [("signature", "0" * 64), ("pruned_count", 1), ("hmac", "a" * 64), ("sequence", 5)],
)
def test_a_tampered_checkpoint_fails_verification(old_and_new, column, value):
    prune("--older-than", "400d")

    AuditCheckpoint.objects.update(**{column: value})

    report = chain_verify()
    assert not report.ok
    assert report.reason
    with pytest.raises(CommandError, match="audit chain broken"):
        call_command("audit_verify", stdout=io.StringIO())


def test_a_tampered_checkpoint_signature_is_named(old_and_new, client, admin, bearer):
    prune("--older-than", "400d")
    AuditCheckpoint.objects.update(signature="0" * 64)

    report = client.get("/api/v1/audits/verify", **bearer(admin)).json()

    assert report["ok"] is False
    assert report["broken_at_sequence"] == 6
    assert report["reason"] == "prune checkpoint signature is invalid"


def test_a_deleted_checkpoint_fails_verification(old_and_new):
    prune("--older-than", "400d")

    AuditCheckpoint.objects.all().delete()

    report = chain_verify()
    assert not report.ok and report.broken_at_sequence == 1


def test_an_event_after_the_checkpoint_is_still_guarded(old_and_new):
    prune("--older-than", "400d")

    AuditEvent.objects.filter(sequence=8).update(action="x.y")

    report = chain_verify()
    assert not report.ok and report.broken_at_sequence == 8


def test_an_event_forged_into_the_pruned_range_is_caught(old_and_new):
    # Guards: verification looks below the checkpoint too, so a row forged with a sequence the
    # prune already removed is reported.
    old, _ = old_and_new
    prune("--older-than", "400d")
    AuditEvent(
        id=uuid.uuid4(), sequence=3, occurred_at=old[0].occurred_at, action="money.moved",
        entity_type="account", actor_type="system", actor_label="system", source="system",
        details={}, details_digest="0" * 64, hmac="f" * 64,
    ).save(force_insert=True)  # fmt: skip

    report = chain_verify()
    assert not report.ok


# --- seed_audits ------------------------------------------------------------------------------------


def test_seeding_appends_that_many_correctly_chained_events(db):
    record_system(3)

    call_command("seed_audits", 500, stdout=io.StringIO())

    assert AuditEvent.objects.count() == 503
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 504))
    assert AuditEvent.objects.filter(sequence__gt=3, source="command").count() == 500
    report = chain_verify()
    assert report.ok, report.reason
    assert report.checked == 503


def test_seeding_in_batches_and_then_recording_keeps_one_chain(db):
    call_command("seed_audits", 500, "--batch", "120", stdout=io.StringIO())

    after = audit_event_record(action="thing.done", entity_type="thing")

    assert after.sequence == 501
    assert chain_verify().ok


@pytest.mark.postgres
def test_seeding_leaves_planner_statistics_so_filtered_lists_use_the_index(db):
    from django.db import connection

    call_command("seed_audits", 2000, stdout=io.StringIO())

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'audits_auditevent'")
        (estimated_rows,) = cursor.fetchone()
    assert estimated_rows == 2000  # ANALYZE ran; a never-analyzed table reports -1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_seeding_outside_a_transaction_vacuums_so_index_only_scans_skip_the_heap():
    from django.db import connection

    call_command("seed_audits", 2000, stdout=io.StringIO())

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relallvisible, relpages FROM pg_class WHERE relname = 'audits_auditevent'"
        )
        all_visible_pages, pages = cursor.fetchone()
    assert pages > 0
    assert all_visible_pages == pages  # VACUUM set the visibility map of every page

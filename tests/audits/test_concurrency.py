"""Concurrent writers on the real PostgreSQL: one gap-free, valid chain, whatever the interleaving."""

import threading

import pytest
from django.db import connection, transaction

from audits.chain import chain_verify
from audits.models import AuditChainHead, AuditEvent
from audits.services import audit_event_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 20
EVENTS_EACH = 10


def run_writers(write) -> list[BaseException]:
    """Start WRITERS threads together, each on its own connection; return what they raised."""
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            write(n)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


def test_twenty_concurrent_writers_leave_one_contiguous_valid_chain():
    def write(n: int) -> None:
        for i in range(EVENTS_EACH):
            audit_event_record(action="load.tested", entity_type="writer", entity_id=f"{n}-{i}")

    errors = run_writers(write)

    assert errors == []
    total = WRITERS * EVENTS_EACH
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, total + 1))
    entity_ids = set(AuditEvent.objects.values_list("entity_id", flat=True))
    assert entity_ids == {f"{n}-{i}" for n in range(WRITERS) for i in range(EVENTS_EACH)}
    assert AuditChainHead.objects.get().sequence == total
    report = chain_verify()
    assert report.ok, report.reason
    assert report.checked == total
    # Stamped under the head lock: recording time rises with the sequence (prune cuts by time).
    recorded = list(AuditEvent.objects.order_by("sequence").values_list("recorded_at", flat=True))
    assert recorded == sorted(recorded)


def test_concurrent_rolled_back_changes_leave_no_gaps():
    def write(n: int) -> None:
        for i in range(EVENTS_EACH):
            try:
                with transaction.atomic():
                    audit_event_record(
                        action="load.tested", entity_type="writer", entity_id=f"{n}-{i}"
                    )
                    if i % 2:  # every other change fails after recording its event
                        raise RuntimeError("the change failed")
            except RuntimeError:
                pass

    errors = run_writers(write)

    assert errors == []
    kept = WRITERS * EVENTS_EACH // 2
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, kept + 1))
    assert not AuditEvent.objects.filter(entity_id__regex=r"-[13579]$").exists()
    report = chain_verify()
    assert report.ok and report.checked == kept


def test_reviews_redactions_appends_and_prunes_at_once_never_deadlock():
    """Every path takes the chain head before any event row, so no interleaving can deadlock."""
    from datetime import timedelta

    from django.utils import timezone

    from audits.services import audit_event_redact, audit_event_review, audit_prune
    from core.errors import NotFound
    from tests.support.factories import AdminFactory

    reviewer = AdminFactory()
    events = [
        audit_event_record(action="load.tested", entity_type="seed", entity_id=str(i))
        for i in range(40)
    ]
    old_ids = [event.pk for event in events[:20]]
    AuditEvent.objects.filter(pk__in=old_ids).update(
        recorded_at=timezone.now() - timedelta(days=10)
    )

    def write(n: int) -> None:
        for i in range(EVENTS_EACH):
            target = events[(n * 7 + i * 3) % len(events)]
            try:
                if n % 4 == 0:
                    audit_event_review(
                        event=target, reviewer=reviewer, status="acknowledged", review_note=f"{n}"
                    )
                elif n % 4 == 1:
                    audit_event_redact(event=target, redactor=reviewer)
                elif n % 4 == 2 or i:
                    audit_event_record(action="load.tested", entity_type="writer", entity_id=f"{n}")
                else:
                    audit_prune(older_than=timedelta(days=1))
            except NotFound:  # the event was pruned meanwhile: the 404 callers get
                pass

    errors = run_writers(write)

    assert errors == []  # a deadlock would surface here as DeadlockDetected
    assert not AuditEvent.objects.filter(pk__in=old_ids).exists()
    report = chain_verify()
    assert report.ok, report.reason

"""Changing, deleting or inserting rows behind the API's back breaks the chain at that row."""

import threading
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from audits.chain import chain_verify
from audits.models import AuditEvent
from audits.services import audit_event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail():
    return [
        audit_event_record(
            action="thing.done", entity_type="thing", entity_id=str(n), details={"n": n}
        )
        for n in range(1, 6)
    ]


def raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_untouched_trail_verifies(trail, capsys):
    call_command("audit_verify")

    assert chain_verify().ok
    assert '"ok": true' in capsys.readouterr().out


def test_a_changed_column_is_caught_at_that_event(trail):
    raw("UPDATE audits_auditevent SET action = 'x.y' WHERE sequence = 3")

    report = chain_verify()

    assert not report.ok
    assert report.broken_at_sequence == 3
    assert report.broken_event_id == str(trail[2].pk)
    with pytest.raises(CommandError, match="sequence 3"):
        call_command("audit_verify")


def test_changed_details_are_caught(trail):
    raw("UPDATE audits_auditevent SET details = %s WHERE sequence = 2", '{"n": 999}')

    report = chain_verify()

    assert (report.ok, report.broken_at_sequence, report.reason) == (
        False,
        2,
        "details were altered",
    )


def test_a_deleted_event_in_the_middle_is_caught(trail):
    raw("DELETE FROM audits_auditevent WHERE sequence = 4")

    report = chain_verify()

    assert not report.ok and report.broken_at_sequence == 4


def test_a_deleted_last_event_is_caught(trail):
    raw("DELETE FROM audits_auditevent WHERE sequence = 5")

    report = chain_verify()

    assert not report.ok and report.broken_at_sequence == 5
    assert "deleted" in report.reason


def test_an_inserted_event_is_caught(trail):
    raw("UPDATE audits_auditevent SET sequence = sequence + 100 WHERE sequence > 2")
    forged = AuditEvent(
        id=uuid.uuid4(), sequence=3, occurred_at=trail[0].occurred_at, action="money.moved",
        entity_type="account", actor_type="system", actor_label="system", source="system",
        details={}, details_digest="0" * 64, hmac="f" * 64,
    )  # fmt: skip
    forged.save(force_insert=True)

    report = chain_verify()

    assert not report.ok
    assert report.broken_at_sequence == 3
    assert report.broken_event_id == str(forged.pk)


def test_a_faked_redaction_is_caught(trail):
    raw(
        "UPDATE audits_auditevent SET details = '{}', redacted_at = %s WHERE sequence = 2",
        trail[0].occurred_at,
    )

    report = chain_verify()

    assert not report.ok and report.broken_at_sequence == 2
    assert "redact" in report.reason


def test_a_rolled_back_change_leaves_no_event():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_event_record(action="thing.done", entity_type="thing")
        raise RuntimeError("the change failed")

    assert not AuditEvent.objects.exists()
    assert chain_verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_writers_leave_one_valid_chain():
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                audit_event_record(action="load.tested", entity_type="writer", entity_id=f"{n}-{i}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 201))
    report = chain_verify()
    assert report.ok and report.checked == 200

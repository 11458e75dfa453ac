"""The chain head is held for as little as possible: on PostgreSQL an append is two statements
under the lock (lock-and-read, then insert-and-move), and what they write is a valid chain."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.chain import chain_verify
from audits.models import AuditChainHead, AuditEvent
from audits.services import audit_event_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_an_append_locks_then_inserts_and_moves_the_head_in_one_statement():
    first = audit_event_record(action="thing.done", entity_type="thing", details={"n": 1})

    with CaptureQueriesContext(connection) as queries:
        second = audit_event_record(action="thing.done", entity_type="thing", details={"n": 2})

    statements = [q["sql"] for q in queries if "audits_auditchainhead" in q["sql"]]
    assert len(statements) == 2, statements
    assert statements[0].startswith("SELECT") and statements[0].endswith("FOR UPDATE")
    assert statements[1].startswith("WITH moved AS (UPDATE") and "INSERT INTO" in statements[1]
    head = AuditChainHead.objects.get()
    stored = AuditEvent.objects.get(pk=second.pk)
    assert (head.sequence, head.hmac) == (first.sequence + 1, stored.hmac)
    assert (stored.sequence, stored.details, stored.recorded_at) == (
        second.sequence,
        {"n": 2},
        second.recorded_at,
    )
    assert chain_verify().ok

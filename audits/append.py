"""Appending one event to the chain with the shortest possible lock on the chain head.

Every append holds the single head row from the moment it reads the previous HMAC until commit,
so appends run one at a time; the length of that window is the trail's write throughput
(docs/performance.md). Everything that can happen before the lock does: the INSERT is compiled by
Django's own compiler up front, and under the lock only three round trips remain:

1. ``UPDATE head SET sequence = sequence + 1 … RETURNING sequence, hmac`` locks the head and reads
   the new sequence and the previous HMAC in one statement;
2. the event is sealed (microseconds of Python) and inserted; on PostgreSQL the head's new HMAC
   is written by the same statement (a data-modifying CTE);
3. COMMIT, by the caller's outermost transaction (the append joins it without a savepoint).
"""

from django.db import connection, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone

from audits import chain
from audits.models import AuditChainHead, AuditEvent

_FIELDS = AuditEvent._meta.local_concrete_fields
_AT = {field.name: i for i, field in enumerate(_FIELDS)}
_RECORDED_AT = AuditEvent._meta.get_field("recorded_at")


# The head is one fixed row (migration 0002); the table and column names are the models' own.
_HEAD_ADVANCE = (
    "UPDATE audits_auditchainhead SET sequence = sequence + 1 WHERE id = 1 RETURNING sequence, hmac"
)
_HEAD_SEAL = "UPDATE audits_auditchainhead SET hmac = %s WHERE id = 1"


def _insert_statement(event: AuditEvent) -> tuple[str, list]:
    """Django's INSERT for ``event`` as SQL and one parameter per column, in ``_FIELDS`` order."""
    query = InsertQuery(AuditEvent)
    query.insert_values(_FIELDS, [event])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    if len(params) != len(_FIELDS):  # one "%s" per column, so sequence and hmac can be filled in
        raise RuntimeError("unexpected INSERT shape for AuditEvent")
    return sql, list(params)


def _head_advanced(cursor) -> tuple[int, str]:
    cursor.execute(_HEAD_ADVANCE)
    row = cursor.fetchone()
    if row is None:  # a database flushed by tests (or by hand) lost the row migration 0002 made
        AuditChainHead.objects.get_or_create(pk=1)
        cursor.execute(_HEAD_ADVANCE)
        row = cursor.fetchone()
    return row


def event_append(event: AuditEvent) -> None:
    """Give ``event`` the next sequence and its seal, and write it, in the caller's transaction
    (or a new one): the head never moves without its event."""
    event.sequence, event.hmac = 0, ""  # placeholders, replaced under the lock
    insert_sql, params = _insert_statement(event)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        event.sequence, previous_hmac = _head_advanced(cursor)
        event.hmac = chain.seal(previous_hmac=previous_hmac, event=event)
        # Stamped under the lock, so recorded_at rises with sequence (prune cuts by time).
        event.recorded_at = timezone.now()
        params[_AT["sequence"]], params[_AT["hmac"]] = event.sequence, event.hmac
        params[_AT["recorded_at"]] = _RECORDED_AT.get_db_prep_save(event.recorded_at, connection)
        if connection.vendor == "postgresql":
            # insert_sql is Django's compiled INSERT with placeholders; no value is in the text.
            append_sql = f"WITH appended AS ({insert_sql}) {_HEAD_SEAL}"
            cursor.execute(append_sql, [*params, event.hmac])
        else:
            cursor.execute(insert_sql, params)
            cursor.execute(_HEAD_SEAL, [event.hmac])
    event._state.adding, event._state.db = False, connection.alias

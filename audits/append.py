"""Appending one event to the chain, holding the chain head for the shortest possible time.

Every append holds the single head row from the moment it reads the previous HMAC until commit,
so appends run one at a time; the length of that window is the trail's write throughput
(docs/performance.md). Everything that can happen before the lock does (the caller scrubs,
normalises and digests the details first). Under the lock:

1. ``SELECT … FOR UPDATE`` of the head row: the new sequence and the previous HMAC;
2. the event is sealed (microseconds of Python);
3. it is inserted and the head moved to it (sequence and HMAC), in one statement on PostgreSQL;
4. COMMIT, by the caller's outermost transaction (the append joins it without a savepoint).
"""

from functools import cache

from django.db import connection, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone

from audits import chain
from audits.models import AuditChainHead, AuditEvent


@cache
def _head_statements() -> tuple[str, str]:
    """Lock-and-read and move of the head row: two one-row statements built once, so nothing is
    compiled while the lock is held (the ORM's took ~0.3 ms each; docs/performance.md)."""
    quote, meta = connection.ops.quote_name, AuditChainHead._meta
    table, id_, sequence, hmac = (
        quote(name)
        for name in (meta.db_table, *(meta.get_field(f).column for f in ("id", "sequence", "hmac")))
    )
    # Only the model's own quoted names are interpolated; values are parameters.
    lock = f"SELECT {sequence}, {hmac} FROM {table} WHERE {id_} = 1"  # noqa: S608
    if connection.features.has_select_for_update:  # SQLite locks the whole file on write instead
        lock += " FOR UPDATE"
    move = f"UPDATE {table} SET {sequence} = %s, {hmac} = %s WHERE {id_} = 1"  # noqa: S608
    return lock, move


def _head_locked() -> tuple[int, str]:
    """The head's sequence and HMAC, its row locked until commit."""
    lock, _ = _head_statements()
    with connection.cursor() as cursor:
        cursor.execute(lock)
        row = cursor.fetchone()
        if row is None:  # a database flushed by tests (or by hand) lost the row migration 0002 made
            AuditChainHead.objects.get_or_create(pk=1)
            cursor.execute(lock)
            row = cursor.fetchone()
    if row is None:
        raise AuditChainHead.DoesNotExist("the audit chain head row is missing")
    return row[0], row[1]


def event_append(event: AuditEvent) -> None:
    """Give ``event`` the next sequence and its seal, and write it, in the caller's transaction
    (or a new one): the head never moves without its event."""
    with transaction.atomic(savepoint=False):
        sequence, previous_hmac = _head_locked()
        event.sequence = sequence + 1
        event.hmac = chain.seal(previous_hmac=previous_hmac, event=event)
        # Stamped under the lock, so recorded_at rises with sequence (prune cuts by time).
        event.recorded_at = timezone.now()
        _insert_and_move_head(event)


def _insert_and_move_head(event: AuditEvent) -> None:
    """The event's INSERT, as the ORM's ``save(force_insert=True)`` writes it, and the head's move:
    on PostgreSQL one statement (the move in a CTE), one round trip less under the lock; SQLite,
    which has no data-modifying CTE, runs the two in turn. Nothing listens to AuditEvent's save
    signals: this function is the only writer of events."""
    query = InsertQuery(AuditEvent)
    query.insert_values(AuditEvent._meta.local_concrete_fields, [event])
    [(insert, insert_params)] = query.get_compiler(connection=connection).as_sql()
    _, move = _head_statements()
    move_params = [event.sequence, event.hmac]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a CTE may write there
            cursor.execute(f"WITH moved AS ({move}) {insert}", [*move_params, *insert_params])
        else:
            cursor.execute(insert, insert_params)
            cursor.execute(move, move_params)
    event._state.adding, event._state.db = False, connection.alias

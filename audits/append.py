"""Appending one event to the chain, holding the chain head for the shortest possible time.

Every append holds the single head row from the moment it reads the previous HMAC until commit,
so appends run one at a time; the length of that window is the trail's write throughput
(docs/performance.md). Everything that can happen before the lock does (the caller scrubs,
normalises and digests the details first). Under the lock:

1. ``SELECT … FOR UPDATE`` of the head row: the new sequence and the previous HMAC;
2. the event is sealed (microseconds of Python);
3. it is inserted and the head moved to it (sequence and HMAC), in one statement on PostgreSQL;
4. COMMIT, by the caller's outermost transaction (the append joins it without a savepoint).

An append made outside any transaction (``POST /audits``, a sign-in) joins its process's group
commit instead (``audits/group_commit.py``): the events queued while a batch was being written
are sealed in order and written by one lock, one statement and one COMMIT.
"""

from functools import cache

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models.sql import InsertQuery

from audits import chain
from audits.group_commit import GroupCommit
from audits.models import AuditChainHead, AuditEvent

# One transaction's worth of events: short enough to keep the head's hold brief, long enough
# that a process's whole queue (at most one event per server thread) drains in one batch.
BATCH_MAX = 64
# A queue wait shorter than this leaves the batch's lock waits their full budget (no extra
# statement in the common case).
QUEUE_WAIT_IGNORED = 0.05


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
    """Give ``event`` the next sequence and its seal, and write it: in the caller's transaction if
    there is one (the head never moves without its event), else in the process's group commit.
    Either way it is committed when this returns, or it raised and nothing of it was written."""
    # A connection not in autocommit mode (set_autocommit(False)) is a transaction too.
    if connection.in_atomic_block or not connection.get_autocommit():
        events_append([event])
    else:
        # Connected before queueing, as an append alone would be: whoever is handed the turn
        # then writes at once, and never waits for a pooled connection that a queued appender
        # is holding idle (more threads than the pool's size would otherwise stall the queue).
        connection.ensure_connection()
        _group_commit.submit(event, wait_timeout=_queue_wait_limit())


def _queue_wait_limit() -> float:
    """As long as an append alone would wait for the head: PostgreSQL's lock timeout (or its
    statement timeout if that is off), SQLite's busy timeout. A queue that long is a stuck head."""
    if connection.vendor == "postgresql":
        return settings.DB_LOCK_TIMEOUT or settings.DB_STATEMENT_TIMEOUT or 60.0
    return float(connection.settings_dict["OPTIONS"].get("timeout", 5.0))


def events_append(events: list[AuditEvent]) -> None:
    """Seal ``events`` in order after the head and write them in one transaction (the caller's,
    or a new one)."""
    with transaction.atomic(savepoint=False):
        sequence, previous_hmac = _head_locked()
        for event in events:
            sequence += 1
            event.sequence = sequence
            event.hmac = previous_hmac = chain.seal(previous_hmac=previous_hmac, event=event)
        # recorded_at (auto_now_add) is stamped row by row as the INSERT is compiled, under the
        # lock, so it rises with sequence (prune cuts by time).
        _insert_and_move_head(events)


def _refused_row(error: BaseException) -> bool:
    """An integrity or data error is about a row; an operational one (outage, timeout) is not."""
    return isinstance(error, DatabaseError) and not isinstance(
        error, (OperationalError, InterfaceError)
    )


def _batch_append(events: list[AuditEvent], *, waited: float) -> None:
    """A group commit's batch. Its oldest event already spent ``waited`` of its lock-wait budget
    in the queue, so on PostgreSQL the batch's own lock waits get only what is left: an append
    gives up within the same bound as one made alone, even while the head or table is stuck."""
    budget = settings.DB_LOCK_TIMEOUT
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql" and budget and waited > QUEUE_WAIT_IGNORED:
            left_ms = max(int((budget - waited) * 1000), 1)
            with connection.cursor() as cursor:  # before the head's lock, and for this batch only
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{left_ms}ms"])
        events_append(events)


_group_commit = GroupCommit(_batch_append, batch_max=BATCH_MAX, one_item_at_fault=_refused_row)


def _insert_and_move_head(events: list[AuditEvent]) -> None:
    """The events' INSERT, as the ORM's ``bulk_create`` writes it, and the head's move to the
    last of them: on PostgreSQL one statement (the move in a CTE), one round trip less under the
    lock; SQLite, which has no data-modifying CTE, runs the two in turn. Nothing listens to
    AuditEvent's save signals: this module is the only writer of events."""
    fields = AuditEvent._meta.local_concrete_fields
    size = max(1, connection.ops.bulk_batch_size(fields, events))  # SQLite caps the parameters
    inserts = []
    for start in range(0, len(events), size):
        query = InsertQuery(AuditEvent)
        query.insert_values(fields, events[start : start + size])
        inserts += query.get_compiler(connection=connection).as_sql()
    _, move = _head_statements()
    move_params = [events[-1].sequence, events[-1].hmac]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(inserts) == 1:  # a CTE may write there
            [(insert, insert_params)] = inserts
            cursor.execute(f"WITH moved AS ({move}) {insert}", [*move_params, *insert_params])
        else:
            for insert, insert_params in inserts:
                cursor.execute(insert, insert_params)
            cursor.execute(move, move_params)
    for event in events:
        event._state.adding, event._state.db = False, connection.alias

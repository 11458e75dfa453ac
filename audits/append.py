"""Appending one event to the chain, holding the chain head for the shortest possible time.

Every append holds the single head row from the moment it reads the previous HMAC until commit,
so appends run one at a time; the length of that window is the trail's write throughput
(docs/performance.md). Everything that can happen before the lock does (the caller scrubs,
normalises and digests the details first). Under the lock, with plain ORM calls:

1. ``SELECT … FOR UPDATE`` of the head row: the new sequence and the previous HMAC;
2. the event is sealed (microseconds of Python) and inserted;
3. the head is moved to the event (sequence and HMAC);
4. COMMIT, by the caller's outermost transaction (the append joins it without a savepoint).
"""

from django.db import transaction
from django.utils import timezone

from audits import chain
from audits.models import AuditChainHead, AuditEvent


def _head_locked() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # a database flushed by tests (or by hand) lost the row migration 0002 made
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def event_append(event: AuditEvent) -> None:
    """Give ``event`` the next sequence and its seal, and write it, in the caller's transaction
    (or a new one): the head never moves without its event."""
    with transaction.atomic(savepoint=False):
        head = _head_locked()
        event.sequence = head.sequence + 1
        event.hmac = chain.seal(previous_hmac=head.hmac, event=event)
        # Stamped under the lock, so recorded_at rises with sequence (prune cuts by time).
        event.recorded_at = timezone.now()
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(sequence=event.sequence, hmac=event.hmac)

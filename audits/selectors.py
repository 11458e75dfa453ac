"""Reads of the audit trail, and who may see which events."""

from collections.abc import Iterator
from datetime import datetime
from functools import partial

from django.db.models import Q, QuerySet

from audits.models import AuditEvent
from core.compiled_pages import KeyedQuerySet
from core.permissions import is_staff_member

EXPORT_BATCH = 1000


ALL_EVENTS = "all"


def _visibility_scope(actor) -> str:
    """Whose events the actor sees: ``ALL_EVENTS``, or the id of the one user they caused."""
    return ALL_EVENTS if is_staff_member(actor) else str(actor.pk)


def audit_event_visible(*, actor) -> QuerySet[AuditEvent]:
    """Staff and admins review the whole trail; everyone else sees what they did themselves."""
    events = AuditEvent.objects.all()
    scope = _visibility_scope(actor)
    if scope != ALL_EVENTS:
        events = events.filter(actor_user_id=scope)
    return events


def audit_event_list(
    *,
    actor,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: str | None = None,
) -> QuerySet[AuditEvent]:
    """Newest first. ``action`` is exact, or a prefix when it ends in ``.*`` (``prompt.*``)."""
    events = audit_event_visible(actor=actor)
    if action:
        if action.endswith(".*"):
            events = events.filter(action__startswith=action[:-1])
        else:
            events = events.filter(action=action)
    if entity_type:
        events = events.filter(entity_type=entity_type)
    if entity_id:
        events = events.filter(entity_id=entity_id)
    if actor_id:
        events = events.filter(actor_user_id=actor_id)
    if status:
        events = events.filter(status=status)
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lt=until)
    if q:
        events = events.filter(
            Q(action__icontains=q) | Q(entity_id__icontains=q) | Q(actor_label__icontains=q)
        )
    return events.order_by("-sequence")


def audit_event_listing(*, actor, **filters) -> KeyedQuerySet:
    """``audit_event_list`` for the paginator, keyed by what its SQL is built from: whose events
    the caller sees (``audit_event_visible``) and the filters. Each page compiles once a process."""
    return KeyedQuerySet(
        key=("audits.audit_event_list", _visibility_scope(actor), *sorted(filters.items())),
        build=partial(audit_event_list, actor=actor, **filters),
    )


def audit_event_export_iter(*, events: QuerySet[AuditEvent]) -> Iterator[AuditEvent]:
    """Oldest first, in keyset batches on ``sequence``: constant memory for millions of rows."""
    last_sequence = 0
    while True:
        batch = list(events.filter(sequence__gt=last_sequence).order_by("sequence")[:EXPORT_BATCH])
        if not batch:
            return
        yield from batch
        last_sequence = batch[-1].sequence


def audit_event_open_count() -> int:
    """Events nobody has reviewed yet (the status index makes this cheap)."""
    return AuditEvent.objects.filter(status="open").count()

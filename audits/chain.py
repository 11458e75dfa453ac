"""The HMAC chain: how an event is sealed, and how the whole trail is verified.

hmac_n = HMAC-SHA256(AUDIT_HMAC_KEY, hmac_{n-1} || canonical(event_n)), starting from 64 zeros or
from the newest signed prune checkpoint. Changing, deleting or inserting a row breaks the link at
that row. One thing the database alone cannot reveal: deleting the newest events *and* rolling the
head row back to an older event; the ``head_hmac`` that verification reports is the anchor to keep
elsewhere (logs, a ticket) for that. The key is separate from SECRET_KEY.
"""

import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

GENESIS = "0" * 64
REDACTION_ACTION = "audit.event.redacted"
_VERIFY_BATCH = 2000


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )


def details_digest(details: dict) -> str:
    return hashlib.sha256(canonical_json(details).encode()).hexdigest()


def _key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


def _ip_canonical(ip: str | None) -> str:
    """One spelling per address: PostgreSQL's inet prints ``::1.2.3.4`` where Python says
    ``::102:304``, so the seal uses Python's form of whatever the column gives back."""
    return ipaddress.ip_address(ip).compressed if ip else ""


def sealed_fields(event) -> dict:
    """The fields the chain protects (review and redaction fields are deliberately outside)."""
    return {
        "id": str(event.id),
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.isoformat(),
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "actor_type": event.actor_type,
        "actor_user_id": event.actor_user_id,
        "actor_api_key_id": event.actor_api_key_id,
        "actor_label": event.actor_label,
        "request_id": event.request_id,
        "ip": _ip_canonical(event.ip),
        "user_agent": event.user_agent,
        "source": event.source,
        "details_digest": event.details_digest,
    }


def seal(*, previous_hmac: str, event) -> str:
    message = previous_hmac.encode() + canonical_json(sealed_fields(event)).encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def checkpoint_signature(*, sequence: int, last_hmac: str, pruned_count: int) -> str:
    message = f"checkpoint|{sequence}|{last_hmac}|{pruned_count}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


@dataclass
class VerificationReport:
    ok: bool
    checked: int
    first_sequence: int | None
    last_sequence: int | None
    broken_at_sequence: int | None = None
    broken_event_id: str | None = None
    reason: str = ""
    # The HMAC of the newest verified event: record it outside the database now and then; only an
    # outside anchor reveals the newest events deleted together with the head row rolled back.
    head_hmac: str | None = None

    @classmethod
    def broken(
        cls, *, at: int, reason: str, event=None, checked: int = 0, first=None, last=None
    ) -> "VerificationReport":
        return cls(
            ok=False,
            checked=checked,
            first_sequence=first,
            last_sequence=last,
            broken_at_sequence=at,
            broken_event_id=str(event.id) if event is not None else None,
            reason=reason,
        )

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_sequence": self.first_sequence,
            "last_sequence": self.last_sequence,
            "broken_at_sequence": self.broken_at_sequence,
            "broken_event_id": self.broken_event_id,
            "reason": self.reason,
            "head_hmac": self.head_hmac,
        }


def chain_verify() -> VerificationReport:
    """Walk the chain in sequence order in constant memory; report the first broken link.

    Runs on one snapshot (REPEATABLE READ on PostgreSQL), reading the head first, so writers
    appending meanwhile neither hide events nor look like deletions.
    """
    if connection.in_atomic_block:  # already inside a transaction (tests, callers)
        return _walk()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _walk()


class _BrokenLink(Exception):
    """Raised by a walk step; ``_walk`` turns it into the report."""

    def __init__(self, *, at: int | None, reason: str, event=None) -> None:
        super().__init__(reason)
        self.at, self.reason, self.event = at, reason, event


@dataclass
class _Walk:
    """Where the walk stands: the link to expect next, and what has been checked so far."""

    previous_hmac: str
    expected_sequence: int
    checked: int = 0
    first: int | None = None
    last: int | None = None

    def advance(self, event) -> None:
        self.first = self.first if self.first is not None else event.sequence
        self.previous_hmac, self.expected_sequence = event.hmac, event.sequence + 1
        self.last, self.checked = event.sequence, self.checked + 1


def _starting_point() -> _Walk:
    """Genesis, or the newest prune checkpoint once its own signature checks out."""
    from audits.models import AuditCheckpoint

    checkpoint = AuditCheckpoint.objects.order_by("-sequence").first()
    if checkpoint is None:
        return _Walk(previous_hmac=GENESIS, expected_sequence=1)
    signature = checkpoint_signature(
        sequence=checkpoint.sequence,
        last_hmac=checkpoint.hmac,
        pruned_count=checkpoint.pruned_count,
    )
    if not hmac.compare_digest(signature, checkpoint.signature):
        raise _BrokenLink(at=checkpoint.sequence, reason="prune checkpoint signature is invalid")
    return _Walk(previous_hmac=checkpoint.hmac, expected_sequence=checkpoint.sequence + 1)


def _vouched_redactions() -> set[str]:
    """Ids of events whose redaction Parecer itself recorded (external records vouch for none)."""
    from audits.models import AuditEvent, Source

    return set(
        AuditEvent.objects.filter(action=REDACTION_ACTION)
        .exclude(source=Source.EXTERNAL)
        .values_list("entity_id", flat=True)
    )


def _no_event_before(sequence: int) -> None:
    """Rows before the starting point have no link to check: any there were put there."""
    from audits.models import AuditEvent

    stray = AuditEvent.objects.filter(sequence__lt=sequence).order_by("sequence").first()
    if stray is not None:
        raise _BrokenLink(
            at=stray.sequence,
            event=stray,
            reason="an event sits before the start of the chain (inserted, or into a pruned range)",
        )


def _no_event_beyond(after: int) -> None:
    """Rows beyond the head were never appended: any there were put there."""
    from audits.models import AuditEvent

    beyond = AuditEvent.objects.filter(sequence__gt=after).order_by("sequence").first()
    if beyond is not None:
        raise _BrokenLink(
            at=beyond.sequence,
            event=beyond,
            reason="an event sits beyond the head of the chain (inserted)",
        )


def _link_problem(event, walk: _Walk, vouched: set[str]) -> str:
    """Why ``event`` does not continue the chain, or "" when it does."""
    if event.sequence != walk.expected_sequence:
        return f"sequence {walk.expected_sequence} is missing (found {event.sequence})"
    if not hmac.compare_digest(seal(previous_hmac=walk.previous_hmac, event=event), event.hmac):
        return "HMAC does not match: the event or its predecessor was altered"
    if event.redacted_at is None:
        return (
            "" if details_digest(event.details) == event.details_digest else "details were altered"
        )
    if str(event.id) not in vouched:
        return "event is marked redacted but no redaction was recorded"
    if event.details:
        return "details were written into a redacted event"
    return ""


def _walk() -> VerificationReport:
    from audits.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.filter(pk=1).first()
    head_sequence = head.sequence if head else 0
    walk = None
    try:
        walk = _starting_point()
        vouched = _vouched_redactions()
        _no_event_before(walk.expected_sequence)
        events = AuditEvent.objects.order_by("sequence").filter(
            sequence__gte=walk.expected_sequence, sequence__lte=head_sequence
        )
        for event in events.iterator(chunk_size=_VERIFY_BATCH):
            problem = _link_problem(event, walk, vouched)
            if problem:
                walk.first = walk.first if walk.first is not None else event.sequence
                raise _BrokenLink(at=walk.expected_sequence, event=event, reason=problem)
            walk.advance(event)
        _no_event_beyond(head_sequence)
        if head_sequence != walk.expected_sequence - 1:
            raise _BrokenLink(
                at=walk.expected_sequence,
                reason=f"the chain ends at {walk.expected_sequence - 1} but the head says "
                f"{head_sequence}: events at the end were deleted",
            )
    except _BrokenLink as broken:
        progress = {"checked": walk.checked, "first": walk.first, "last": walk.last} if walk else {}
        return VerificationReport.broken(
            at=broken.at, event=broken.event, reason=broken.reason, **progress
        )
    return VerificationReport(
        ok=True,
        checked=walk.checked,
        first_sequence=walk.first,
        last_sequence=walk.last,
        head_hmac=walk.previous_hmac if walk.checked else None,
    )

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


def _walk() -> VerificationReport:
    from audits.models import AuditChainHead, AuditCheckpoint, AuditEvent, Source

    head = AuditChainHead.objects.filter(pk=1).first()
    head_sequence = head.sequence if head else 0

    checkpoint = AuditCheckpoint.objects.order_by("-sequence").first()
    previous_hmac, expected_sequence = GENESIS, 1
    if checkpoint is not None:
        signature = checkpoint_signature(
            sequence=checkpoint.sequence,
            last_hmac=checkpoint.hmac,
            pruned_count=checkpoint.pruned_count,
        )
        if not hmac.compare_digest(signature, checkpoint.signature):
            return VerificationReport.broken(
                at=checkpoint.sequence, reason="prune checkpoint signature is invalid"
            )
        previous_hmac, expected_sequence = checkpoint.hmac, checkpoint.sequence + 1

    redacted_ids = set(
        AuditEvent.objects.filter(action=REDACTION_ACTION)
        .exclude(source=Source.EXTERNAL)  # only Parecer's own records vouch for a redaction
        .values_list("entity_id", flat=True)
    )
    # Rows at or before the starting point have no link to check: any there were put there.
    stray = AuditEvent.objects.filter(sequence__lt=expected_sequence).order_by("sequence").first()
    if stray is not None:
        return VerificationReport.broken(
            at=stray.sequence,
            event=stray,
            reason="an event sits before the start of the chain (inserted, or into a pruned range)",
        )
    checked, first, last = 0, None, None
    events = AuditEvent.objects.order_by("sequence").filter(
        sequence__gte=expected_sequence, sequence__lte=head_sequence
    )
    for event in events.iterator(chunk_size=_VERIFY_BATCH):
        first = first if first is not None else event.sequence
        problem = ""
        if event.sequence != expected_sequence:
            problem = f"sequence {expected_sequence} is missing (found {event.sequence})"
        elif not hmac.compare_digest(seal(previous_hmac=previous_hmac, event=event), event.hmac):
            problem = "HMAC does not match: the event or its predecessor was altered"
        elif event.redacted_at is None and details_digest(event.details) != event.details_digest:
            problem = "details were altered"
        elif event.redacted_at is not None and str(event.id) not in redacted_ids:
            problem = "event is marked redacted but no redaction was recorded"
        elif event.redacted_at is not None and event.details:
            problem = "details were written into a redacted event"
        if problem:
            return VerificationReport.broken(
                at=expected_sequence,
                event=event,
                reason=problem,
                checked=checked,
                first=first,
                last=last,
            )
        previous_hmac, expected_sequence, last = event.hmac, event.sequence + 1, event.sequence
        checked += 1

    beyond = AuditEvent.objects.filter(sequence__gt=head_sequence).order_by("sequence").first()
    if beyond is not None:
        return VerificationReport.broken(
            at=beyond.sequence,
            event=beyond,
            reason="an event sits beyond the head of the chain (inserted)",
            checked=checked,
            first=first,
            last=last,
        )
    if head_sequence != expected_sequence - 1:
        return VerificationReport.broken(
            at=expected_sequence,
            checked=checked,
            first=first,
            last=last,
            reason=f"the chain ends at {expected_sequence - 1} but the head says {head_sequence}: "
            "events at the end were deleted",
        )
    return VerificationReport(
        ok=True,
        checked=checked,
        first_sequence=first,
        last_sequence=last,
        head_hmac=previous_hmac if checked else None,
    )

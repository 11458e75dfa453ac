"""Recording the audit trail: the one call every app uses, in the same transaction as its change."""

import ipaddress
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audits import chain, context
from audits.models import ActorType, AuditChainHead, AuditEvent

_SECRET_KEY_RE = re.compile(r"pass(word|wd)?|secret|token|api[_-]?key|hash|authorization|cookie", re.I)
_HARMLESS_SUFFIXES = ("_id", "_prefix", "_type", "_count", "_at")
REDACTED = "[redacted]"


def secrets_scrub(value: Any) -> Any:
    """Replace the values of secret-looking keys at any depth; passwords and tokens never land."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if _SECRET_KEY_RE.search(str(key)) and not str(key).endswith(_HARMLESS_SUFFIXES)
            else secrets_scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [secrets_scrub(item) for item in value]
    return value


def changes_between(before: dict, after: dict) -> dict:
    """``{field: {"before": old, "after": new}}`` for each field whose value changed."""
    return {
        field: {"before": before.get(field), "after": after.get(field)}
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    }


def audit_event_record(
    *,
    action: str,
    entity_type: str,
    entity_id: str | uuid.UUID | None = "",
    details: dict | None = None,
    occurred_at: datetime | None = None,
    source: str | None = None,
    actor_user_id: str | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one sealed event; the actor, request id and client come from the current context.

    Call it inside the transaction of the change it describes: if that rolls back, so does this.
    The chain head row is locked until commit, which serialises appends (see docs/performance.md).
    """
    ctx = context.current()
    user_id = actor_user_id if actor_user_id is not None else (ctx.actor_user_id or "")
    if ctx.actor_api_key_id and actor_user_id is None:
        actor_type = ActorType.API_KEY
    elif user_id:
        actor_type = ActorType.USER
    else:
        actor_type = ActorType.SYSTEM
    clean_details = secrets_scrub(details or {})
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            sequence=head.sequence + 1,
            occurred_at=(occurred_at or timezone.now()).astimezone(UTC),
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id or ""),
            actor_type=actor_type,
            actor_user_id=user_id,
            actor_api_key_id=(ctx.actor_api_key_id or "") if actor_user_id is None else "",
            actor_label=(actor_label or ctx.actor_label or "system")[:254],
            request_id=ctx.request_id,
            ip=ipaddress.ip_address(ctx.ip).compressed if ctx.ip else None,
            user_agent=ctx.user_agent,
            source=source or ctx.source,
            details=clean_details,
            details_digest=chain.details_digest(clean_details),
        )
        event.hmac = chain.seal(previous_hmac=head.hmac, event=event)
        event.save(force_insert=True)
        head.sequence, head.hmac = event.sequence, event.hmac
        head.save(update_fields=["sequence", "hmac"])
    return event

"""Recording the audit trail: the one call every app uses, in the same transaction as its change."""

import functools
import ipaddress
import itertools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from audits import chain
from audits.append import event_append
from audits.models import ActorType, AuditChainHead, AuditCheckpoint, AuditEvent, Source
from core import context
from core.errors import Conflict, DomainError, InvalidInput, NotFound

DETAILS_MAX_BYTES = 64 * 1024
FUTURE_SKEW = timedelta(seconds=5)  # tolerated clock difference for client-supplied times

# Secret detection works on the WORDS of a key (split on "_", "-", spaces and camelCase), never
# on substrings: "token_budget", "input_tokens", "prompt_hash" and "passage" are provenance,
# not secrets, and must survive to be sealed.
_SECRET_WORDS = frozenset(
    {"password", "passwords", "passwd", "pwd", "passphrase", "pass", "secret", "secrets",
     "token", "jwt", "bearer", "authorization", "cookie", "cookies", "credential",
     "credentials", "pin", "otp", "cvv", "ssn", "apikey", "session"}
)  # fmt: skip
_SECRET_PHRASES = frozenset(
    {("api", "key"), ("private", "key"), ("signing", "key"), ("session", "key"),
     ("secret", "key"), ("access", "key"), ("client", "secret")}
)  # fmt: skip
_SECRET_LAST_WORDS = frozenset({"access", "refresh"})  # {"access": "eyJ..."}, {"refresh": ...}
# A key that ends in one of these describes a secret (its id, kind, count, budget), not it.
_DESCRIPTIVE_LAST_WORDS = frozenset(
    {"id", "ids", "prefix", "type", "kind", "count", "at", "budget", "limit", "used", "usage",
     "estimate", "version", "ttl", "expiry", "enabled", "length"}
)  # fmt: skip
_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
REDACTED = "[redacted]"


@functools.cache
def reserved_namespaces() -> frozenset[str]:
    """What Parecer records about itself: each app declares its ``audit_namespaces`` in its
    AppConfig. External systems may not write events that look like Parecer's own."""
    return frozenset(
        namespace
        for app_config in apps.get_app_configs()
        for namespace in getattr(app_config, "audit_namespaces", ())
    )


def key_words(key: Any) -> list[str]:
    """``"X-API-Key"`` -> ``["x", "api", "key"]``; ``"tokenBudget"`` -> ``["token", "budget"]``."""
    return [word.lower() for word in _WORD_RE.findall(str(key))]


def _looks_secret(key: Any, value: Any, sensitive_keys: frozenset[str]) -> bool:
    if str(key) in sensitive_keys:
        return True
    words = key_words(key)
    if value is None or isinstance(value, bool) or not words:
        return False
    if words[-1] in _DESCRIPTIVE_LAST_WORDS:
        return False
    if words[-1] in _SECRET_LAST_WORDS or _SECRET_WORDS.intersection(words):
        return True
    return any(pair in _SECRET_PHRASES for pair in itertools.pairwise(words))


def _jsonb_exact(value: Any) -> Any:
    """As jsonb gives it back: integral floats beyond 2**53 as integers, -0.0 as 0.0."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 2**53:
        return int(value)
    if isinstance(value, float) and value == 0:
        return 0.0
    if isinstance(value, dict):
        return {key: _jsonb_exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonb_exact(item) for item in value]
    return value


def secrets_scrub(value: Any, *, sensitive_keys: frozenset[str] = frozenset()) -> Any:
    """Replace the values of secret-looking keys at any depth; passwords and tokens never land.

    ``sensitive_keys`` names extra keys a caller knows to be sensitive (matched exactly).
    """
    if isinstance(value, dict):
        return {
            key: REDACTED
            if _looks_secret(key, item, sensitive_keys)
            else secrets_scrub(item, sensitive_keys=sensitive_keys)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [secrets_scrub(item, sensitive_keys=sensitive_keys) for item in value]
    return value


def changes_between(before: dict, after: dict) -> dict:
    """``{field: {"before": old, "after": new}}`` for each field whose value changed."""
    return {
        field: {"before": before.get(field), "after": after.get(field)}
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    }


def _ip_normalised(ip: str | None) -> str | None:
    """Compressed, without an IPv6 zone (``fe80::1%eth0``), IPv4-mapped addresses as IPv4."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they are IPv4 clients.
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).compressed


def chain_head_locked() -> AuditChainHead:
    """The head row, locked until commit. Migration 0002 creates it; a database flushed by
    tests (or by hand) gets it back here."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


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
    sensitive_keys: frozenset[str] = frozenset(),
) -> AuditEvent:
    """Append one sealed event; the actor, request id and client come from the current context.

    Secret-looking keys in ``details`` are redacted before sealing (by the words of the key);
    ``sensitive_keys`` marks more keys, by exact name, that the caller knows to be sensitive.

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
    # Stored exactly as it will read back (datetimes and UUIDs as strings), so the sealed digest
    # matches the row on every database.
    clean_details = _jsonb_exact(
        json.loads(
            chain.canonical_json(secrets_scrub(details or {}, sensitive_keys=sensitive_keys))
        )
    )
    event = AuditEvent(
        occurred_at=(occurred_at or timezone.now()).astimezone(UTC),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id or ""),
        actor_type=actor_type,
        actor_user_id=user_id,
        actor_api_key_id=(ctx.actor_api_key_id or "") if actor_user_id is None else "",
        actor_label=(actor_label or ctx.actor_label or "system")[:254],
        request_id=ctx.request_id,
        ip=_ip_normalised(ctx.ip),
        user_agent=ctx.user_agent,
        source=source or ctx.source,
        details=clean_details,
        details_digest=chain.details_digest(clean_details),
    )
    # Everything above happens before the lock: the head row is held from the append to commit,
    # and that window is what serialises every writer (audits/append.py, docs/performance.md).
    event_append(event)
    return event


def audit_event_external_record(
    *, action: str, entity_type: str, entity_id: str, details: dict, occurred_at: datetime | None
) -> AuditEvent:
    """An event reported by an authenticated client about another system; the caller is the actor."""
    namespace = action.split(".", 1)[0]
    if namespace in reserved_namespaces():
        raise InvalidInput(
            f"Actions under {namespace}.* are recorded by Parecer itself; use your own namespace.",
            code="reserved_action",
            details=[{"field": "action", "in": "body", "reason": "reserved namespace"}],
        )
    if occurred_at is not None and occurred_at > timezone.now() + FUTURE_SKEW:
        raise InvalidInput(
            "occurred_at may not be in the future.",
            details=[{"field": "occurred_at", "in": "body", "reason": "in the future"}],
        )
    size = len(chain.canonical_json(details).encode())
    if size > DETAILS_MAX_BYTES:
        raise DomainError(
            f"details is {size} bytes; the limit is {DETAILS_MAX_BYTES}.",
            status=413,
            code="details_too_large",
        )
    return audit_event_record(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details=details,
        occurred_at=occurred_at,
        source=Source.EXTERNAL,
    )


def _event_locked(*, event_id: uuid.UUID) -> AuditEvent:
    """One lock order everywhere: the chain head, then event rows (appends and prunes do the same),
    so reviews and redactions never deadlock with a prune."""
    chain_head_locked()
    event = AuditEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None:  # pruned meanwhile
        raise NotFound("No such audit event.")
    return event


def audit_event_review(
    *, event: AuditEvent, reviewer, status: str | None, review_note: str | None
) -> AuditEvent:
    """Change the review status or note (the only mutable fields); the review is itself audited."""
    with transaction.atomic():
        event = _event_locked(event_id=event.pk)
        before = {"status": event.status, "review_note": event.review_note}
        if status is not None:
            event.status = status
        if review_note is not None:
            event.review_note = review_note
        changes = changes_between(
            before, {"status": event.status, "review_note": event.review_note}
        )
        if not changes:
            return event
        event.reviewed_by_id, event.reviewed_at = str(reviewer.pk), timezone.now()
        event.save(update_fields=["status", "review_note", "reviewed_by_id", "reviewed_at"])
        audit_event_record(
            action="audit.event.reviewed",
            entity_type="audit_event",
            entity_id=event.pk,
            details=changes,
        )
    return event


def audit_event_redact(*, event: AuditEvent, redactor) -> AuditEvent:
    """Empty the details but keep the row and its place in the chain (the digest stays sealed)."""
    with transaction.atomic():
        event = _event_locked(event_id=event.pk)
        if event.redacted_at is not None:
            return event
        event.details, event.redacted_at, event.redacted_by_id = (
            {},
            timezone.now(),
            str(redactor.pk),
        )
        event.save(update_fields=["details", "redacted_at", "redacted_by_id"])
        audit_event_record(
            action=chain.REDACTION_ACTION,
            entity_type="audit_event",
            entity_id=event.pk,
            details={"redacted_action": event.action, "redacted_sequence": event.sequence},
        )
    return event


def audit_prune(*, older_than: timedelta) -> AuditCheckpoint | None:
    """Delete the oldest events (a prefix of the chain) and leave a signed checkpoint in their place."""
    cutoff = timezone.now() - older_than
    # A checkpoint vouches for what it replaces: never sign over a chain that does not verify.
    report = chain.chain_verify()
    if not report.ok:
        raise Conflict(
            f"The audit chain does not verify (sequence {report.broken_at_sequence}: "
            f"{report.reason}); nothing was pruned. Investigate with audit_verify first.",
            code="audit_chain_broken",
        )
    with transaction.atomic():
        # Holding the head keeps writers out while the prefix is cut.
        chain_head_locked()
        last = AuditEvent.objects.filter(recorded_at__lt=cutoff).order_by("-sequence").first()
        if last is None:
            return None
        previous = AuditCheckpoint.objects.order_by("-sequence").first()
        removed, _ = AuditEvent.objects.filter(sequence__lte=last.sequence).delete()
        total = removed + (previous.pruned_count if previous else 0)
        checkpoint = AuditCheckpoint.objects.create(
            sequence=last.sequence,
            hmac=last.hmac,
            pruned_count=total,
            signature=chain.checkpoint_signature(
                sequence=last.sequence, last_hmac=last.hmac, pruned_count=total
            ),
        )
        audit_event_record(
            action="audit.pruned",
            entity_type="audit_checkpoint",
            entity_id=str(checkpoint.pk),
            details={"through_sequence": last.sequence, "removed": removed, "cutoff": cutoff},
        )
    return checkpoint

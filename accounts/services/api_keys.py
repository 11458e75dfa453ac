"""Machine clients' API keys: create (secret shown once), revoke."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, ApiKeyScope, User
from accounts.tokens import api_key_generate
from audits.services import audit_event_record
from core.errors import InvalidInput

API_KEY_MAX_LIFETIME = timedelta(days=3653)


def api_key_create(
    *, user: User, name: str, scope: str = ApiKeyScope.READ, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Returns the row and the full key; only its hash is stored, so it cannot be shown again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(
            "expires_at must be in the future.",
            details=[{"field": "expires_at", "in": "body", "reason": "must be in the future"}],
        )
    if expires_at is not None and expires_at > timezone.now() + API_KEY_MAX_LIFETIME:
        raise InvalidInput(
            "expires_at may be at most 10 years ahead; omit it for a key that does not expire.",
            details=[{"field": "expires_at", "in": "body", "reason": "more than 10 years ahead"}],
        )
    key, prefix, key_hash = api_key_generate()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=key_hash,
            scope=scope,
            expires_at=expires_at,
        )
        audit_event_record(
            action="auth.api_key.created",
            entity_type="api_key",
            entity_id=api_key.pk,
            details={"name": name, "scope": scope, "key_prefix": prefix, "expires_at": expires_at},
        )
    return api_key, key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Takes effect on the next request (every request looks the key up). Idempotent."""
    if api_key.revoked_at is not None:
        return api_key
    with transaction.atomic():
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_event_record(
            action="auth.api_key.revoked",
            entity_type="api_key",
            entity_id=api_key.pk,
            details={"name": api_key.name, "key_prefix": api_key.prefix},
        )
    return api_key


def api_key_touch(*, api_key: ApiKey, now: datetime) -> None:
    """Record use at most once a minute: a write per request would cost more than it tells."""
    last = api_key.last_used_at
    if last is None or (now - last).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now

"""Machine clients' API keys: create (secret shown once), revoke."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiKey, ApiKeyScope, User
from accounts.tokens import api_key_generate
from audits.services import audit_event_record
from core.errors import Conflict, InvalidInput, PermissionDenied

API_KEY_MAX_LIFETIME = timedelta(days=3653)


def api_key_create(
    *, user: User, name: str, scope: str = ApiKeyScope.READ, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Returns the row and the full key; only its hash is stored, so it cannot be shown again.

    Refused (403 ``email_unverified``) until the owner's address is verified: a key outlives a
    password reset's sign-out, so someone who registered another person's address must not be
    able to keep one. At most ``API_KEYS_MAX_ACTIVE`` usable keys per user (409 ``api_key_limit``).
    """
    if user.email_verified_at is None:
        raise PermissionDenied(
            "Verify your e-mail address before creating API keys.", code="email_unverified"
        )
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
        # The owner's row lock serialises concurrent creations, so the cap cannot be raced past.
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").first()
        active = _usable_keys(user=user).count()
        if active >= settings.API_KEYS_MAX_ACTIVE:
            raise Conflict(
                f"You have {active} active API keys, the most allowed; revoke one first.",
                code="api_key_limit",
                details={"active": active, "max_active": settings.API_KEYS_MAX_ACTIVE},
            )
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


def _usable_keys(*, user: User):
    now = timezone.now()
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def api_keys_revoke_all(*, user: User) -> int:
    """Revoke every usable key of ``user`` (password reset); returns how many. Call inside the
    transaction of the change; the change's own audit event records the count."""
    return _usable_keys(user=user).update(revoked_at=timezone.now())


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

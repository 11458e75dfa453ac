"""Reads of the accounts domain, and who may see what."""

import uuid
from datetime import datetime

from django.db.models import Q, QuerySet

from accounts.models import ApiKey, Role, User
from accounts.tokens import sha256_hex


def active_user_get(*, user_id: uuid.UUID) -> User | None:
    """The active user with this id, or None (deactivated users authenticate as nobody)."""
    return User.objects.filter(pk=user_id, is_active=True).first()


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def api_key_get_usable(*, key: str, now: datetime) -> ApiKey | None:
    """The unrevoked, unexpired key with this secret, with its active owner."""
    return (
        ApiKey.objects.select_related("user")
        .filter(key_hash=sha256_hex(key), revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """A user's own keys, newest first (revoked ones included, so the history is visible)."""
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")  # id: stable pages


def user_list(
    *, q: str = "", role: str | None = None, is_active: bool | None = None
) -> QuerySet[User]:
    users = User.objects.order_by("email")
    if q:
        users = users.filter(Q(email__icontains=q) | Q(full_name__icontains=q))
    if role:
        users = users.filter(role=role)
    if is_active is not None:
        users = users.filter(is_active=is_active)
    return users


def active_admin_count() -> int:
    return User.objects.filter(role=Role.ADMIN, is_active=True).count()


def active_user_count() -> int:
    return User.objects.filter(is_active=True).count()


def api_key_usable_count(*, now: datetime) -> int:
    """Keys that would authenticate now: not revoked, not expired, owner active."""
    return (
        ApiKey.objects.filter(revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .count()
    )

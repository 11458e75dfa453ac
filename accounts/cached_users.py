"""The active-user check of a cached read, from the shared cache, in the document's round trip.

A poll (``GET /analyses/{id}``) or a resolve (``GET /prompts/{slug}``) served from the shared
cache would still pay a database query for its caller's user: more than the cached read itself.
Those routes give their authentication the document's key, and the user and the document come in
one MGET (``core.document_cache.documents_cached``). Every other route checks the user in the
database (``selectors.active_user_get``).

What is kept is the user's columns named in ``COLUMNS``: not the password hash nor the
preferences (a hash does not belong in a cache, and neither is read on these routes; touching one
loads it, as a deferred field). Only active users are kept, with their token version: a token of
another version is checked in the database. Deactivation, a role change, a token-version bump (sign out everywhere,
password change) and deletion mark the entry changed on commit (``core.document_cache``): no
request authenticates from the old entry once the change's call has returned. The entry's own
TTL bounds the one gap, a cache that refused the mark during an outage.
"""

import hashlib
import uuid
from typing import Any

from django.http import HttpRequest

from accounts import selectors
from accounts.models import User
from core import document_cache

# An allowlist: a column added to User later is not copied into the cache unless named here
# (touching one that is not is a deferred load, one query). Kept in the model's column order,
# which ``User.from_db`` expects; the key carries the list's digest, so processes of two builds
# in a rolling deploy never read each other's entries.
_KEPT = {
    "id",
    "email",
    "full_name",
    "role",
    "is_active",
    "is_staff",
    "is_superuser",
    "email_verified_at",
    "token_version",
    "last_login",
    "created_at",
    "updated_at",
}
COLUMNS = tuple(field.attname for field in User._meta.concrete_fields if field.attname in _KEPT)
PREFIX = f"accounts:user:{hashlib.sha256(repr(COLUMNS).encode()).hexdigest()[:8]}:"
# Backstop only (every write of the row marks it): bounds the one gap, a mark the cache refused.
SECONDS = 15


def _key(user_id) -> str:
    return f"{PREFIX}{user_id}"


def _restored(cached: Any) -> User | None:
    if not isinstance(cached, dict) or tuple(cached) != COLUMNS:
        return None  # not what this build writes: a miss
    return User.from_db("default", COLUMNS, list(cached.values()))


def active_user_with_document(
    *, request: HttpRequest, user_id: uuid.UUID, token_version: int, document_key: str
) -> User | None:
    """The active user with this token version (else None), and the document kept on the
    request for the view (``core.document_cache.document_for``)."""
    cached, document = document_cache.documents_cached([_key(user_id), document_key])
    document_cache.document_prefetched(request, document_key, document)
    user = _restored(cached)
    if user is not None and user.is_active and user.token_version == token_version:
        return user
    started = document_cache.read_started()
    user = selectors.active_user_get(user_id=user_id, token_version=token_version)
    if user is not None:
        values = {column: getattr(user, column) for column in COLUMNS}
        document_cache.document_fill(_key(user_id), values, started=started, seconds=SECONDS)
    return user


def user_changed(user_id) -> None:
    """Call from any write of a user row that bypasses ``save`` (a queryset ``update``)."""
    document_cache.document_changed_on_commit(_key(user_id))


def user_written(sender, instance: User, created: bool = False, **kwargs) -> None:
    """``post_save`` and ``post_delete`` of User (``AccountsConfig.ready``); a new row has no
    cached copy to drop."""
    if not created:
        user_changed(instance.pk)

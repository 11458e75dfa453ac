"""The active-user check of a cached read, from the shared cache, in the document's round trip.

A poll (``GET /analyses/{id}``) or a resolve (``GET /prompts/{slug}``) served from the shared
cache would still pay a database query for its caller's user: more than the cached read itself.
Those routes give their authentication the document's key, and the user and the document come in
one MGET (``core.document_cache.documents_cached``). Every other route checks the user in the
database (``selectors.active_user_get``).

What is kept is the user's columns without the password hash and the preferences (a hash does
not belong in a cache, and neither is read on these routes; touching one loads it, as a deferred
field). Only active users are kept, with their token version: a token of another version is
checked in the database. Deactivation, a role change, a token-version bump (sign out everywhere,
password change) and deletion mark the entry changed on commit (``core.document_cache``): no
request authenticates from the old entry once the change's call has returned. The entry's own
TTL bounds the one gap, a cache that refused the mark during an outage.
"""

import uuid
from typing import Any

from django.http import HttpRequest

from accounts import selectors
from accounts.models import User
from core import document_cache

PREFIX = "accounts:user:v1:"
SECONDS = 60  # backstop only: every write of the row marks it
_COLUMNS = [
    field.attname
    for field in User._meta.concrete_fields
    if field.attname not in {"password", "preferences"}
]


def _key(user_id) -> str:
    return f"{PREFIX}{user_id}"


def active_user_with_document(
    *, request: HttpRequest, user_id: uuid.UUID, token_version: int, document_key: str
) -> User | None:
    """The active user with this token version (else None), and the document kept on the
    request for the view (``core.document_cache.document_for``)."""
    cached, document = document_cache.documents_cached([_key(user_id), document_key])
    document_cache.document_prefetched(request, document_key, document)
    if cached is not None:
        user = User.from_db("default", _COLUMNS, cached)
        if user.is_active and user.token_version == token_version:
            return user
    started = document_cache.read_started()
    user = selectors.active_user_get(user_id=user_id, token_version=token_version)
    if user is not None:
        values: list[Any] = [getattr(user, column) for column in _COLUMNS]
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

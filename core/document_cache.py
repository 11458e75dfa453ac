"""Read documents kept in the shared cache, which every write makes miss: no stale read outlives it.

For a hot read of one row that changes at known moments (an analysis's status), the rendered
response is kept in the shared cache, so the read costs one cache GET instead of a query and a
serialisation. The hard part is a read racing a write: a reader that loaded the old row fills
the cache *after* the writer dropped it, and the old document then lives on. So a write does not
delete the entry, it replaces it, on commit, with a short-lived ``CHANGED`` marker; readers fill
with ``add`` (SET NX), which cannot overwrite the marker; and a reader whose fill comes more than
``FILL_WITHIN`` seconds after its database read started does not fill at all, so no fill can
land after the marker has expired. The marker lives ``CHANGED_SECONDS``: reads go to the
database until then.

Off (``DOCUMENT_CACHE``) unless the cache is shared by every process (Redis): a process-local
cache could not hear another process's change.

A request may fetch its document in the same round trip as its caller's user (``documents_cached``,
``accounts.cached_users``): the route's authentication is given the document's key, keeps what it
read on the request (``document_prefetched``), and the view takes it from there (``document_for``).

Cache errors never fail a request: a read falls back to the database; a mark the cache refuses
is logged and set again with this process's next marks, and the entry's own TTL bounds the rest
(a process that makes no further change, a cache that lost writes).
"""

import threading
import time
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

logger = structlog.get_logger("parecer.cache")

CHANGED = "__changed__"
CHANGED_SECONDS = 3
FILL_WITHIN = CHANGED_SECONDS / 2
UNMARKED_MAX = 10_000  # marks kept through an outage; past this the entries' own TTLs bound them

_unmarked_lock = threading.Lock()
_unmarked: set[str] = set()


def read_started() -> float:
    """Call before the database read whose result will be filled in."""
    return time.monotonic()


def document_cached(key: str) -> Any | None:
    """The cached document, or None (a miss, a write marker, the cache down or off)."""
    if not settings.DOCUMENT_CACHE:
        return None
    try:
        value = cache.get(key)
    except Exception as exc:
        logger.warning("document_cache_failed", op="get", error=str(exc)[:200])
        return None
    return None if value is None or value == CHANGED else value


def documents_cached(keys: list[str]) -> list[Any | None]:
    """Several documents in one cache round trip (MGET), each as ``document_cached`` gives it."""
    if not settings.DOCUMENT_CACHE:
        return [None] * len(keys)
    try:
        found = cache.get_many(keys)
    except Exception as exc:
        logger.warning("document_cache_failed", op="get_many", error=str(exc)[:200])
        return [None] * len(keys)
    return [None if (value := found.get(key)) == CHANGED else value for key in keys]


def document_prefetched(request: HttpRequest, key: str, value: Any | None) -> None:
    """Keep a document read with the request's authentication (one round trip for both)."""
    request.prefetched_documents = {**getattr(request, "prefetched_documents", {}), key: value}


def document_for(request: HttpRequest | None, key: str) -> Any | None:
    """The document this request's authentication prefetched, else ``document_cached``."""
    prefetched = getattr(request, "prefetched_documents", {})
    return prefetched[key] if key in prefetched else document_cached(key)


def document_fill(key: str, value: Any, *, started: float, seconds: int) -> None:
    """Keep ``value`` (read from the database since ``started``) unless a write marked the key."""
    if not settings.DOCUMENT_CACHE or time.monotonic() - started > FILL_WITHIN:
        return
    try:
        cache.add(key, value, seconds)
    except Exception as exc:
        logger.warning("document_cache_failed", op="add", error=str(exc)[:200])


def document_changed_on_commit(key: str) -> None:
    """Inside (or outside) a write's transaction: once it commits, the key's readers miss."""
    if not settings.DOCUMENT_CACHE:
        return
    # robust: another callback of the transaction that raises must not cost this mark.
    transaction.on_commit(lambda: documents_mark_changed([key]), robust=True)


def documents_mark_changed(keys: list[str]) -> None:
    """Now: these keys' readers miss, and no read that started before can fill them.

    Marks the cache refused (an outage) are kept in this process and set again with its next
    marks, so an entry filled before the outage does not outlive a change made during it.
    """
    if not settings.DOCUMENT_CACHE or not keys:
        return
    with _unmarked_lock:
        keys = [*keys, *_unmarked]
        _unmarked.clear()
    try:
        cache.set_many(dict.fromkeys(keys, CHANGED), CHANGED_SECONDS)
    except Exception as exc:
        logger.warning("document_cache_failed", op="set", keys=keys[:5], error=str(exc)[:200])
        with _unmarked_lock:
            _unmarked.update(keys[:UNMARKED_MAX])
            while len(_unmarked) > UNMARKED_MAX:
                _unmarked.pop()

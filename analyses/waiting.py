"""``?wait=N``: hold a request until its analysis finishes, without holding what others need.

A waiter registers a ``threading.Event`` for its analysis and sleeps on it: nothing polls. The
worker, once its transaction has committed, announces the finished analysis: it sets the events
of its own process and PUBLISHes the id on one Redis channel. Each web process runs one waiter
hub, a daemon thread started by the first waiter and SUBSCRIBEd to that channel, which sets the
events of the ids it hears. A database read every ``ANALYSIS_WAIT_DB_CHECK`` seconds is the
backstop for what the channel cannot carry: the embedded defaults (a local-memory cache, no
channel between the web and worker processes), a Redis outage, a message sent while the hub was
reconnecting. Waiters per process are bounded by ``ANALYSIS_MAX_WAITERS``: over the bound a
request is answered at once, so waits never take every server thread.
"""

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable

import redis
import structlog
from django.conf import settings
from django.core.cache import cache, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache

from analyses.models import FINAL_STATUSES, OUTCOME_FIELDS, Analysis
from core.errors import NotFound

# What a running analysis changes (what a waiter re-reads).
CHANGING_FIELDS = (
    "status",
    *OUTCOME_FIELDS,
    "attempts",
    "cancel_requested",
    "started_at",
    "finished_at",
    "queue_wait_ms",
)

logger = structlog.get_logger("parecer.analyses")

# Under the cache's KEY_PREFIX, so deployments (and test workers) sharing a Redis stay apart:
# a channel, unlike a key, belongs to no database number.
CHANNEL = "analyses:done"
LISTEN_TIMEOUT = 1.0  # how often the hub looks up from the socket (to stop, to ping)
PING_EVERY = 10.0  # a silent subscription is pinged; no answer within as long means it is dead
BACKOFF_MIN = 0.5
BACKOFF_MAX = 10.0
READY_WAIT = 1.0  # how long the first waiter of a process waits for the hub's subscription

# --- Waiter slots -----------------------------------------------------------------------------

_slots_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None
_slots_size = 0


def _waiter_slots() -> threading.BoundedSemaphore:
    global _slots, _slots_size
    with _slots_lock:
        if _slots is None or _slots_size != settings.ANALYSIS_MAX_WAITERS:
            _slots = threading.BoundedSemaphore(settings.ANALYSIS_MAX_WAITERS)
            _slots_size = settings.ANALYSIS_MAX_WAITERS
        return _slots


# --- Waiter events: one per waiting request, by analysis id -----------------------------------

_events_lock = threading.Lock()
_events: dict[str, set[threading.Event]] = {}


def _event_register(analysis_id: str) -> threading.Event:
    event = threading.Event()
    with _events_lock:
        _events.setdefault(analysis_id, set()).add(event)
    return event


def _event_unregister(analysis_id: str, event: threading.Event) -> None:
    with _events_lock:
        waiting = _events.get(analysis_id)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del _events[analysis_id]


def _wake(analysis_id: str) -> None:
    with _events_lock:
        for event in _events.get(analysis_id, ()):
            event.set()


def _wake_all() -> None:
    with _events_lock:
        for waiting in _events.values():
            for event in waiting:
                event.set()


# --- The channel ------------------------------------------------------------------------------


def _redis_client() -> redis.Redis | None:
    """django-redis's client (its pool, short timeouts and circuit breaker), or None when the
    cache is not Redis: then there is no channel between processes."""
    if not isinstance(caches["default"], RedisCache):
        return None
    return get_redis_connection("default")


def _channel() -> str:
    return cache.make_key(CHANNEL)


class WaiterHub:
    """One per process: a daemon thread subscribed to the channel, waking the waiters it names.

    It never dies of an outage: a failed subscription is retried with a backoff doubling from
    ``BACKOFF_MIN`` to ``BACKOFF_MAX``, logged once per outage; meanwhile waiters read the
    database every ``ANALYSIS_WAIT_DB_CHECK``. Once subscribed again it wakes every waiter, which
    re-reads its analysis: what was announced during the outage is not lost.
    """

    def __init__(self, *, client_factory: Callable[[], redis.Redis | None]) -> None:
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopping = threading.Event()
        self._pubsub: redis.client.PubSub | None = None  # the current subscription
        self.listening = threading.Event()  # set while subscribed

    def ensure_started(self) -> bool:
        """Start the thread unless it runs in this process already; True when it started now."""
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if alive and self._pid == os.getpid():  # a forked child inherits no threads
                return False
            self._pid = os.getpid()
            self._stopping.clear()
            self.listening.clear()
            self._thread = threading.Thread(
                target=self._run, name="parecer-waiter-hub", daemon=True
            )
            self._thread.start()
            return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (tests; a process simply exits with it)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = BACKOFF_MIN
        in_outage = False

        def subscribed() -> None:
            nonlocal backoff, in_outage
            if in_outage:
                logger.info("analysis_waiter_hub_reconnected")
            in_outage, backoff = False, BACKOFF_MIN
            self.listening.set()
            _wake_all()  # anything announced while this process was not subscribed: go and look

        while not self._stopping.is_set():
            pubsub = None
            try:
                pubsub = self._pubsub = self._client_factory().pubsub()
                pubsub.subscribe(_channel())
                self._listen(pubsub, on_subscribed=subscribed)
            except Exception as exc:  # whatever broke, the hub lives on: waiters need it
                if not in_outage:
                    logger.warning("analysis_waiter_hub_disconnected", error=str(exc))
                in_outage = True
            finally:
                self.listening.clear()
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # a dead connection closes badly
                        pubsub.close()
            if in_outage and not self._stopping.is_set():
                self._stopping.wait(backoff)
                backoff = min(BACKOFF_MAX, backoff * 2)

    def _listen(self, pubsub, *, on_subscribed: Callable[[], None]) -> None:
        """Until stopped, wake the waiters of every id heard; raises when the connection fails."""
        last_heard = time.monotonic()
        ping_sent: float | None = None
        while not self._stopping.is_set():
            message = pubsub.get_message(timeout=LISTEN_TIMEOUT)
            now = time.monotonic()
            if message is not None:
                last_heard, ping_sent = now, None
                if message["type"] == "message":
                    _wake(message["data"].decode(errors="replace"))
                elif message["type"] == "subscribe":
                    on_subscribed()
            elif ping_sent is not None:
                if now - ping_sent > PING_EVERY:
                    raise redis.ConnectionError("no answer to PING on the subscription")
            elif now - last_heard > PING_EVERY:  # a half-open connection hears nothing, forever
                pubsub.ping()
                ping_sent = now


_hub = WaiterHub(client_factory=_redis_client)


def _hub_join(deadline: float) -> None:
    """Make sure this process listens to the channel, when there is one."""
    if _redis_client() is None:
        return
    if _hub.ensure_started():
        # The first waiter waits (briefly) for the subscription, or what is announced before it
        # would reach this waiter only through the database backstop.
        _hub.listening.wait(max(0.0, min(READY_WAIT, deadline - time.monotonic())))


# --- The two sides ----------------------------------------------------------------------------


def analysis_done_announce(analysis_id: uuid.UUID | str) -> None:
    """Tell waiters (in any process) that this analysis reached a final state.

    Called after the commit: a woken waiter reads the database and must find the final state.
    Never raises: without Redis, waiters elsewhere find out through their database backstop.
    """
    key = str(analysis_id)
    _wake(key)  # this process's waiters (the embedded defaults, tasks run inline)
    client = _redis_client()
    if client is None:
        return
    try:
        client.publish(_channel(), key)
    except Exception as exc:  # an outage only delays waiters to their database backstop
        logger.warning("analysis_announce_failed", analysis_id=key, error=str(exc))


def analysis_wait(*, analysis: Analysis, seconds: float) -> Analysis:
    """Wait up to ``seconds`` for ``analysis`` to finish; return it as it is then.

    Returns at once when it is already final, when ``seconds`` is 0, or when this process already
    holds ``ANALYSIS_MAX_WAITERS`` waiters. An analysis deleted while it is waited on is a 404
    ``not_found``, as it would be had it been deleted before the request.
    """
    if seconds <= 0 or analysis.status in FINAL_STATUSES:
        return analysis
    slots = _waiter_slots()
    if not slots.acquire(blocking=False):
        return analysis
    key = str(analysis.pk)
    # Registered before the database read below: a finish between the caller's read and this
    # subscription is seen by that read, a finish after it sets the event.
    event = _event_register(key)
    try:
        deadline = time.monotonic() + seconds
        _hub_join(deadline)
        while True:
            event.clear()  # cleared before the read: a wake-up from now on is news after it
            # Only what changes while it runs: the loaded prompt and version stay (no queries).
            try:
                analysis.refresh_from_db(fields=CHANGING_FIELDS)
            except Analysis.DoesNotExist:
                raise NotFound("No such analysis.") from None
            left = deadline - time.monotonic()
            if analysis.status in FINAL_STATUSES or left <= 0:
                return analysis
            event.wait(min(left, settings.ANALYSIS_WAIT_DB_CHECK))
    finally:
        _event_unregister(key, event)
        slots.release()

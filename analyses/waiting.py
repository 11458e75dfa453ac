"""``?wait=N``: hold a request until its analysis finishes, without holding what others need.

The worker announces a finished analysis by setting a short-lived cache key (Redis in
production), after its transaction commits. A waiter checks that key every
``ANALYSIS_WAIT_TICK`` seconds (a Redis GET, not a database query) and reads the database only
once it is set, plus a backstop read every ``ANALYSIS_WAIT_DB_CHECK`` seconds for the embedded
defaults, where the local-memory cache is not shared between the web and worker processes.
Waiters per process are bounded by ``ANALYSIS_MAX_WAITERS``: over the bound a request is answered
at once, so waits never take every server thread.
"""

import threading
import time
import uuid

import structlog
from django.conf import settings
from django.core.cache import cache

from analyses.models import FINAL_STATUSES, Analysis

logger = structlog.get_logger("parecer.analyses")

DONE_KEY = "analyses:done:{}"
DONE_TTL = 120

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


def analysis_done_announce(analysis_id: uuid.UUID | str) -> None:
    """Tell waiters (in any process) that this analysis reached a final state."""
    try:
        cache.set(DONE_KEY.format(analysis_id), 1, timeout=DONE_TTL)
    except Exception as exc:  # a cache outage only delays waiters to their database backstop
        logger.warning("analysis_announce_failed", analysis_id=str(analysis_id), error=str(exc))


def _announced(analysis_id) -> bool:
    try:
        return cache.get(DONE_KEY.format(analysis_id)) is not None
    except Exception:
        return False


def analysis_wait(*, analysis: Analysis, seconds: float) -> Analysis:
    """Wait up to ``seconds`` for ``analysis`` to finish; return it as it is then.

    Returns at once when it is already final, when ``seconds`` is 0, or when this process already
    holds ``ANALYSIS_MAX_WAITERS`` waiters.
    """
    if seconds <= 0 or analysis.status in FINAL_STATUSES:
        return analysis
    slots = _waiter_slots()
    if not slots.acquire(blocking=False):
        return analysis
    try:
        deadline = time.monotonic() + seconds
        next_db_check = time.monotonic() + settings.ANALYSIS_WAIT_DB_CHECK
        while time.monotonic() < deadline:
            now = time.monotonic()
            if _announced(analysis.pk) or now >= next_db_check:
                analysis.refresh_from_db()
                if analysis.status in FINAL_STATUSES:
                    return analysis
                next_db_check = now + settings.ANALYSIS_WAIT_DB_CHECK
            time.sleep(min(settings.ANALYSIS_WAIT_TICK, max(0.0, deadline - time.monotonic())))
        analysis.refresh_from_db()
        return analysis
    finally:
        slots.release()

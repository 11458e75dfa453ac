"""Leases: work held by a live process is renewed by a heartbeat; an expired lease means the
holder is gone (killed, frozen, cut off) and someone else may take the work over.

The task worker (``core.task_worker``) holds one per running task on the task's own row; any
long-running unit of work (an analysis) can hold one on its own row the same way:

    with lease_held(renew=lambda expires_at: Analysis.objects.filter(
            pk=pk, status="running").update(lease_expires_at=expires_at), ttl=60) as lease:
        ...  # check lease.lost before committing an effect that must happen once

and a reaper re-queues rows whose ``lease_expires_at`` is in the past.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, connections
from django.utils import timezone

logger = logging.getLogger("parecer.leases")


@dataclass
class Lease:
    ttl: float
    lost: bool = False  # the row was taken over (renew matched nothing): stop, commit nothing
    renewals: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)


def lease_expiry(ttl: float) -> datetime:
    """When a lease taken or renewed now runs out."""
    return timezone.now() + timedelta(seconds=ttl)


@contextmanager
def lease_held(*, renew: Callable[[datetime], int], ttl: float) -> Iterator[Lease]:
    """Renew the lease every ``ttl / 3`` seconds from a daemon thread while the block runs.

    ``renew(expires_at)`` writes the new expiry and returns how many rows it matched: 0 means
    the lease is no longer ours. A renewal that fails (the database restarting) is retried at
    the next beat; two misses still leave a third of the lease.

    Each beat gives its connection back (to the pool) at once: held between beats, a worker
    running more tasks than ``DB_POOL_MAX_SIZE`` would lend every pooled connection to idle
    heartbeats and its tasks could not save their results (found by the fault suite: analyses
    slower than a third of ``TASK_LEASE_SECONDS`` on 16 threads waited out the pool timeout).
    """
    lease = Lease(ttl=ttl)

    def beat() -> None:
        while not lease._stop.wait(ttl / 3):
            try:
                if renew(lease_expiry(ttl)) == 0:
                    lease.lost = True
                    logger.warning("lease_lost")
                    return
                lease.renewals += 1
            except DatabaseError as exc:
                logger.warning(
                    "lease_renewal_failed: %s",
                    (str(exc).splitlines() or [type(exc).__name__])[0][:200],
                )
            finally:
                connections.close_all()  # this thread's connection only; a fresh one next beat

    heartbeat = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
    heartbeat.start()
    try:
        yield lease
    finally:
        lease._stop.set()
        heartbeat.join(timeout=ttl)

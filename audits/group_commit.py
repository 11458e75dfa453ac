"""Group commit: appends that arrive together share one transaction, in arrival order.

Appends are serialised on the chain head (``audits/append.py``). One at a time, each pays the
lock, its statements and a COMMIT, and a queue of appenders is served in whatever order the
database lock, the GIL and the server's threads happen to wake them: under load, a few wait
several times the mean (docs/performance.md). Here the appenders of one process queue in order.
The first to find no batch running writes every queued event in one transaction (its own
included), then hands the turn to the oldest event still queued; everyone else just waits to
be told their batch is committed or failed. This is *flat combining*: no extra thread, no extra
connection, and nobody is told "written" before the COMMIT that wrote them returned.

Only appends made outside any transaction come here; one inside a transaction must commit or
roll back with the change it describes, so it is written there (``event_append``).
"""

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import DatabaseTimeout


class GroupCommitTimeout(DatabaseTimeout):
    """Queued longer than the database would wait for the chain head's lock; nothing was written.
    The client's answer is the database's own lock timeout's."""


@dataclass(eq=False)
class _Slot:
    item: Any
    deadline: float  # time.monotonic() after which no batch may take it
    queued_at: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # it writes the next batch (its own item first)
    taken: bool = False  # in a batch being written: its outcome is coming, it may not withdraw
    error: BaseException | None = None


class GroupCommit:
    """Writes items in batches of up to ``batch_max`` with ``write_batch(items, waited=...)``, one
    batch at a time per process, in arrival order; ``waited`` is how long the oldest item has
    been queued, so the writer can keep its own waits within what that item has left."""

    def __init__(
        self,
        write_batch: Callable[..., None],
        *,
        batch_max: int,
        one_item_at_fault: Callable[[BaseException], bool],
    ) -> None:
        self._write_batch = write_batch
        self._batch_max = batch_max
        # When a batch fails this way, one item may be the cause (a row the database refused):
        # each is written alone, so only that one fails. Anything else (an outage, a timeout)
        # fails the batch as a whole, at once.
        self._one_item_at_fault = one_item_at_fault
        self._reset()
        # A forked worker starts with an empty queue, whatever its parent was doing.
        alive = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (commit := alive()) and commit._reset())

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[_Slot] = deque()
        self._writing = False  # invariant: not writing => the queue is empty

    def queued(self) -> int:
        """Items waiting for a batch, the one being written excluded."""
        with self._lock:
            return len(self._queue)

    def submit(self, item: Any, *, wait_timeout: float) -> None:
        """Return once ``item`` is committed; raise what its batch raised if it failed, or
        ``GroupCommitTimeout`` (nothing written) if no batch took it within ``wait_timeout``."""
        slot = _Slot(item, deadline=time.monotonic() + wait_timeout)
        with self._lock:
            self._queue.append(slot)
            if not self._writing:
                self._writing = slot.leads = True
        try:
            if not slot.leads:
                self._wait(slot, wait_timeout)
        except BaseException:  # timed out or interrupted while queued: leave the queue sound
            self._withdraw(slot)
            raise
        if slot.leads:
            self._lead()
        if slot.error is not None:
            # The same exception object in every waiter of the batch, as concurrent.futures does.
            raise slot.error

    def _wait(self, slot: _Slot, wait_timeout: float) -> None:
        if not slot.done.wait(wait_timeout):
            with self._lock:
                if not (slot.taken or slot.leads):
                    raise GroupCommitTimeout()
            # Taken into a batch, or just handed the turn: its outcome comes within the
            # database's own statement and lock timeouts.
            slot.done.wait()

    def _withdraw(self, slot: _Slot) -> None:
        """A slot leaving before any batch took it: out of the queue, and if it had just been
        handed the turn, the turn goes on to the next."""
        with self._lock:
            if slot.taken or slot not in self._queue:
                return
            self._queue.remove(slot)
            following = self._hand_on() if slot.leads else None
        if following is not None:
            following.done.set()

    def _hand_on(self) -> "_Slot | None":
        """Under the lock: the oldest queued slot gets the turn, or nobody is writing."""
        following = self._queue[0] if self._queue else None
        if following is not None:
            following.leads = True
        else:
            self._writing = False
        return following

    def _lead(self) -> None:
        now, batch, expired = time.monotonic(), [], []
        with self._lock:
            while self._queue and len(batch) < self._batch_max:
                slot = self._queue.popleft()
                # One whose wait ran out as it was reached gives up, as it would have alone,
                # rather than spending the others' lock wait on what it has left.
                (expired if slot.deadline <= now else batch).append(slot)
            for slot in batch:
                slot.taken = True
        for slot in expired:
            slot.error = GroupCommitTimeout()
        try:
            if batch:
                self._write_batch([slot.item for slot in batch], waited=now - batch[0].queued_at)
        except BaseException as error:  # every waiter must hear of it, whatever it is
            if len(batch) > 1 and self._one_item_at_fault(error):
                self._write_each(batch)
            else:
                for slot in batch:
                    slot.error = error
        finally:
            with self._lock:
                following = self._hand_on()
            for slot in batch + expired:
                slot.done.set()
            if following is not None:
                following.done.set()

    def _write_each(self, batch: list[_Slot]) -> None:
        for slot in batch:
            try:
                self._write_batch([slot.item], waited=time.monotonic() - slot.queued_at)
            except BaseException as error:
                slot.error = error

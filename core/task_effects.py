"""Effects that must happen once per task even when the task runs twice.

A task re-runs when its worker died before saving the result (the reaper re-queues it; see
``core.task_worker``). An effect outside the database (an e-mail) must not repeat: it is
recorded on the task's own row, in a committed write right after it happened, and skipped on
a re-run. The one window left is a crash between the effect and that write (milliseconds);
the write itself is retried through a database restart.
"""

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import DatabaseError, close_old_connections

logger = logging.getLogger("parecer.tasks")

# The id of the DBTaskResult row the current task runs for; set by the task worker.
current_task_id: ContextVar[str | None] = ContextVar("current_task_id", default=None)

EFFECTS_KEY = "effects_done"
RECORD_BUDGET_SECONDS = 30.0


def _effects_done(task_id: str) -> list[str]:
    from django_tasks_db.models import DBTaskResult

    value = DBTaskResult.objects.filter(pk=task_id).values_list("return_value", flat=True).first()
    return list(value.get(EFFECTS_KEY, [])) if isinstance(value, dict) else []


def _record(task_id: str, done: list[str]) -> None:
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + RECORD_BUDGET_SECONDS
    while True:
        try:
            # The row is RUNNING: return_value is free until the result overwrites it.
            DBTaskResult.objects.filter(pk=task_id).update(return_value={EFFECTS_KEY: done})
            return
        except DatabaseError:
            if time.monotonic() > deadline:
                raise
            close_old_connections()
            time.sleep(0.5)


def effect_once(*, name: str, perform: Callable[[], Any]) -> bool:
    """Run ``perform()`` unless this task already did it in an earlier run; True if it ran now.

    Outside a worker (no current task) it simply runs.
    """
    task_id = current_task_id.get()
    if task_id is None:
        perform()
        return True
    done = _effects_done(task_id)
    if name in done:
        logger.info("task_effect_skipped: %s already done by task %s", name, task_id)
        return False
    perform()
    _record(task_id, [*done, name])
    return True

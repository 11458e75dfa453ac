"""Background work on ``django.tasks``: one decorator, a retry delay, and periodic tasks.

``@background_task()`` is ``django.tasks.task`` whose function runs bound to the request
context of whoever enqueued it (``core.context.enqueue`` carries that context).
``@periodic(every=...)`` adds a task to the registry that ``manage.py schedule_periodic``
starts; each run schedules the next one when it ends, even when it fails, so a chain never
stops for good. django.tasks has no retries of its own: ``retry_delay`` is the one backoff
policy (exponential, full jitter, ``Retry-After`` honoured) that tasks use to re-enqueue.
"""

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from core.context import runs_in_request_context


def background_task(**task_options: Any) -> Callable[[Callable], Any]:
    """``@task(**task_options)`` whose function runs in the enqueuer's request context."""

    def decorator(func: Callable) -> Any:
        return task(**task_options)(runs_in_request_context(func))

    return decorator


def retry_delay(
    attempt: int, *, base: float = 1.0, cap: float = 300.0, retry_after: float | None = None
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    Full jitter (a uniform draw up to ``base * 2**(attempt-1)``, capped) spreads retries of many
    failed tasks so they don't hit a recovering upstream together; an upstream's ``Retry-After``
    is a floor, never shortened.
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    delay = random.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(float(retry_after), cap))
    return delay


@dataclass(frozen=True)
class PeriodicTask:
    task: Any
    every: Callable[[], int]  # seconds; read at each run so settings changes apply

    @property
    def name(self) -> str:
        return self.task.module_path


_registry: dict[str, PeriodicTask] = {}


def periodic(*, every: int | Callable[[], int], **task_options: Any) -> Callable[[Callable], Any]:
    """A background task that runs every ``every`` seconds once ``schedule_periodic`` starts it.

    Registering happens at import: each app's ``tasks`` module is imported by
    ``periodic_tasks()`` (Django's autodiscovery of ``tasks`` modules), so declaring the
    decorator is all an app does.
    """
    interval = every if callable(every) else (lambda: every)

    def decorator(func: Callable) -> Any:
        @functools.wraps(func)
        def runs_then_reschedules(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            finally:
                periodic_ensure_scheduled(periodic_task=registered, delay_seconds=interval())

        registered = background_task(**task_options)(runs_then_reschedules)
        _registry[registered.module_path] = PeriodicTask(task=registered, every=interval)
        return registered

    return decorator


def periodic_tasks() -> list[PeriodicTask]:
    """Every registered periodic task of every installed app, by name."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")
    return [_registry[name] for name in sorted(_registry)]


def periodic_ensure_scheduled(*, periodic_task: Any, delay_seconds: int) -> bool:
    """Enqueue the next run of ``periodic_task`` unless one is already waiting.

    Because it first looks for a waiting run, a second chain started by accident folds into the
    first, and scheduling is idempotent.
    """
    from django_tasks_db.models import DBTaskResult

    # Not .ready(): that means "due now", and the next run waits in the future.
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=periodic_task.module_path
    )
    if waiting.exists():
        return False
    run_after = timezone.now() + timedelta(seconds=delay_seconds)
    periodic_task.using(run_after=run_after).enqueue()
    return True


def periodic_chains_ensure() -> list[str]:
    """Start every periodic chain that has neither a waiting nor a running run (a run killed
    past its attempt budget ends its chain); returns the names started."""
    from django_tasks_db.models import DBTaskResult

    started = []
    for periodic_task in periodic_tasks():
        alive = DBTaskResult.objects.filter(
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
            task_path=periodic_task.name,
        )
        if not alive.exists():
            periodic_ensure_scheduled(periodic_task=periodic_task.task, delay_seconds=0)
            started.append(periodic_task.name)
    return started


@periodic(every=lambda: settings.TASK_REAPER_INTERVAL)
def tasks_recover() -> dict:
    """Re-queue tasks whose worker is gone, then restart any periodic chain that stopped."""
    from core.task_worker import task_leases_reap as reap

    return {**reap(), "chains_started": periodic_chains_ensure()}

"""A task worker that survives the database and leaves no task ``RUNNING`` forever.

django-tasks-db's ``db_worker`` exits on the first ``OperationalError`` (every PostgreSQL
restart) and marks a task ``RUNNING`` with nothing to notice when its worker dies. This worker
(``manage.py task_worker``) keeps its loop and its claim rules, and adds:

- database errors anywhere in the loop: back off (capped, jittered) and reconnect, never exit;
- a lease per running task, on the task's own row: while ``RUNNING``, ``run_after`` holds the
  lease's expiry (django-tasks-db only reads ``run_after`` of ``READY`` rows), renewed by a
  heartbeat. ``task_leases_reap`` re-queues a task whose lease ran out, or fails it with
  ``LeaseExpired`` once it has been claimed ``TASK_MAX_ATTEMPTS`` times;
- the result is written only while this worker still owns the claim (``started_at`` of its
  claim), retried through a database restart, so a task re-queued meanwhile is finished once.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from traceback import format_exception
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from core.leases import lease_expiry, lease_held
from core.task_effects import current_task_id
from core.tasks import periodic_chains_ensure, retry_delay

logger = logging.getLogger("parecer.tasks")

DATABASE_DOWN = (OperationalError, InterfaceError)
CHAINS_CHECK_SECONDS = 60.0


class LeaseExpired(Exception):
    """The task's worker stopped renewing its lease (killed, frozen or cut off) too often."""


class DurableWorker(Worker):
    """db_worker's claim rules with leases and outage survival; ``threads`` > 1 runs that many
    tasks at once in one process (LLM calls and e-mails wait on I/O, not on the CPU)."""

    threads: int = 1
    _pool: ThreadPoolExecutor | None = None
    _slots: threading.BoundedSemaphore | None = None

    def run(self) -> None:
        try:
            self._loop()
        finally:
            if self._pool is not None:  # let in-flight tasks finish (a second signal exits)
                self._pool.shutdown(wait=True)

    def _loop(self) -> None:
        logger.info("task_worker_started worker_id=%s", self.worker_id)
        failures = 0
        chains_checked_at = 0.0
        while self.running:
            try:
                if not self.batch and time.monotonic() - chains_checked_at > CHAINS_CHECK_SECONDS:
                    # The reaper is itself a periodic chain: something outside it must re-queue
                    # its run when a worker died running it (nothing else would), and restart it.
                    task_leases_reap()
                    periodic_chains_ensure()
                    chains_checked_at = time.monotonic()
                ran = self._run_one()
                failures = 0
            except DATABASE_DOWN as exc:
                failures += 1
                wait = retry_delay(failures, base=0.5, cap=5.0)
                logger.warning(
                    "task_worker_database_error attempt=%s retry_in=%.1fs: %s",
                    failures,
                    wait,
                    str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                )
                connections.close_all()
                time.sleep(wait)
                continue
            if self.batch and not ran:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if self.running and not ran:
                time.sleep(self.interval)

    def _run_one(self) -> bool:
        if self.threads > 1:
            return self._dispatch_one()
        row = self.claim()
        if row is None:
            return False
        self.run_task(row)
        close_old_connections()
        return True

    def _dispatch_one(self) -> bool:
        """Claim a task only when a thread is free, and hand it to the pool."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="task")
            self._slots = threading.BoundedSemaphore(self.threads)
        if not self._slots.acquire(timeout=max(self.interval, 0.05)):
            return True  # every thread busy: look again, without the idle sleep
        try:
            row = self.claim()
        except BaseException:
            self._slots.release()
            raise
        if row is None:
            self._slots.release()
            return False
        self._pool.submit(self._run_in_thread, row)
        return True

    def _run_in_thread(self, row: DBTaskResult) -> None:
        try:
            self.run_task(row)
        except Exception:  # _finish outlived its retries: the lease reaper re-runs the task
            logger.exception("task_worker_thread_error id=%s", row.pk)
        finally:
            close_old_connections()
            self._slots.release()

    def claim(self) -> DBTaskResult | None:
        """Take the next ready task (SKIP LOCKED) and start its lease on its own row."""
        close_old_connections()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            row = tasks.get_locked()
            if row is None:
                return None
            row.status = TaskResultStatus.RUNNING
            row.started_at = timezone.now()
            row.worker_ids = [*row.worker_ids, self.worker_id]
            row.run_after = lease_expiry(settings.TASK_LEASE_SECONDS)
            row.save(update_fields=["status", "started_at", "worker_ids", "run_after"])
        return row

    def run_task(self, db_task_result: DBTaskResult) -> None:
        ours = DBTaskResult.objects.filter(
            pk=db_task_result.pk,
            status=TaskResultStatus.RUNNING,
            started_at=db_task_result.started_at,
        )
        self.running_task = True
        token = current_task_id.set(str(db_task_result.pk))
        try:
            with lease_held(
                renew=lambda expires_at: ours.update(run_after=expires_at),
                ttl=settings.TASK_LEASE_SECONDS,
            ) as lease:
                outcome = self._call(db_task_result)
            if lease.lost:
                logger.warning("task_lease_lost id=%s: result dropped", db_task_result.pk)
                return
            self._finish(ours, db_task_result, outcome)
        finally:
            current_task_id.reset(token)
            self.running_task = False
            self._run_tasks += 1

    def _call(self, db_task_result: DBTaskResult) -> dict[str, Any]:
        try:
            task = db_task_result.task
            task_result = db_task_result.task_result
            task_started.send(sender=type(task.get_backend()), task_result=task_result)
            if task.takes_context:
                value = task.call(
                    TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs
                )
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
            return {"status": TaskResultStatus.SUCCESSFUL, "return_value": value}
        except DATABASE_DOWN as exc:
            attempts = len(db_task_result.worker_ids)
            if attempts < settings.TASK_MAX_ATTEMPTS:
                # The database went away under the task: not the task's fault, run it again.
                logger.warning("task_requeued id=%s after a database error", db_task_result.pk)
                wait = retry_delay(attempts, base=2.0, cap=60.0)
                return {
                    "status": TaskResultStatus.READY,
                    "run_after": timezone.now() + timedelta(seconds=wait),
                }
            return self._failure(exc)
        except Exception as exc:
            return self._failure(exc)

    @staticmethod
    def _failure(exc: BaseException) -> dict[str, Any]:
        return {
            "status": TaskResultStatus.FAILED,
            "return_value": None,
            "exception_class_path": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "traceback": "".join(format_exception(exc)),
        }

    def _finish(self, ours, db_task_result: DBTaskResult, outcome: dict[str, Any]) -> None:
        """Save the result while the claim is still ours, retrying through a restart."""
        requeue = outcome["status"] == TaskResultStatus.READY
        # A re-queued task keeps return_value: it holds the effects already done.
        fields = outcome if requeue else {"exception_class_path": "", "traceback": "", **outcome}
        if not requeue:
            fields["finished_at"] = timezone.now()
        deadline = time.monotonic() + settings.TASK_LEASE_SECONDS
        attempt = 0
        while True:
            try:
                saved = ours.update(**fields)
                break
            except DATABASE_DOWN:
                attempt += 1
                if time.monotonic() > deadline:
                    raise
                connections.close_all()
                time.sleep(retry_delay(attempt, base=0.2, cap=2.0))
        if not saved:
            logger.warning("task_lease_lost id=%s: result dropped", db_task_result.pk)
            return
        if requeue:
            return
        db_task_result.refresh_from_db()
        task_finished.send(
            sender=type(db_task_result.task.get_backend()), task_result=db_task_result.task_result
        )


def task_leases_reap(*, now=None) -> dict[str, int]:
    """Re-queue running tasks whose lease ran out, or fail them after the attempt budget."""
    from django.db import transaction

    now = now or timezone.now()
    requeued = failed = 0
    with transaction.atomic():
        expired = DBTaskResult.objects.running().filter(run_after__lt=now)
        for row in expired.select_for_update(skip_locked=True):
            if len(row.worker_ids) >= settings.TASK_MAX_ATTEMPTS:
                error = LeaseExpired(
                    f"worker {row.worker_ids[-1]} stopped renewing its lease; "
                    f"gave up after {len(row.worker_ids)} attempts"
                )
                row.status = TaskResultStatus.FAILED
                row.finished_at = now
                row.return_value = None
                row.exception_class_path = f"{__name__}.LeaseExpired"
                row.traceback = "".join(format_exception(error))
                failed += 1
            else:
                row.status = TaskResultStatus.READY
                row.run_after = now
                requeued += 1
            row.save()
            logger.warning(
                "task_lease_expired id=%s task=%s attempts=%s -> %s",
                row.pk,
                row.task_path,
                len(row.worker_ids),
                row.status,
            )
    return {"requeued": requeued, "failed": failed}


def task_health_report(*, now=None) -> dict[str, int]:
    """What ``/health`` reports (never fails on): tasks past their lease, failed in the last hour."""
    now = now or timezone.now()
    return {
        "running": DBTaskResult.objects.running().count(),
        "stuck": DBTaskResult.objects.running().filter(run_after__lt=now).count(),
        "failed_last_hour": DBTaskResult.objects.failed()
        .filter(finished_at__gte=now - timedelta(hours=1))
        .count(),
    }

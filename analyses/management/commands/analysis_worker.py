"""``manage.py analysis_worker --threads N``: one process running up to N tasks at once.

django-tasks-db's ``db_worker`` runs one task at a time per process. An analysis spends nearly
all its time waiting on the LLM, so this worker keeps django.tasks and the database queue, and
runs N of its tasks concurrently in threads of one process: one dispatcher thread claims a task
(``SELECT ... FOR UPDATE SKIP LOCKED``, exactly as db_worker does) only when a thread is free, and
hands it to the pool; each pool thread has its own database connection (Django connections are
per thread). The measurement behind the default is in docs/performance.md.
"""

import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from core import context


def _patient_pool() -> None:
    """Wait longer than a web request would for a pooled connection.

    A request should fail fast (DB_POOL_TIMEOUT, 3 s) in an outage; a worker that gives up instead
    loses a task (measured: 4 workers x 32 threads on a loaded host hit the 3 s limit). Applied
    before the first connection, which is when the pool is created.
    """
    pool = connections["default"].settings_dict.get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict):
        pool["timeout"] = max(
            float(pool.get("timeout", 0)), settings.ANALYSIS_WORKER_DB_POOL_TIMEOUT
        )


class Command(BaseCommand):
    help = "Run background tasks, up to --threads at once in one process (LLM calls are I/O)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--threads", type=int, default=settings.ANALYSIS_WORKER_THREADS)
        parser.add_argument(
            "--interval", type=float, default=0.2, help="Idle poll interval in seconds."
        )
        parser.add_argument("--queue-name", default="*", help="Comma-separated, or * for all.")
        parser.add_argument("--backend", default="default", dest="backend_name")
        parser.add_argument("--worker-id", default=None)

    def handle(
        self,
        *args,
        threads: int,
        interval: float,
        queue_name: str,
        backend_name: str,
        worker_id: str | None,
        **options,
    ) -> None:
        worker_id = worker_id or f"{socket.gethostname()[:40]}-{os.getpid()}"
        _patient_pool()
        queues = [name for name in queue_name.split(",") if name]
        stopping = threading.Event()

        def stop(signum, frame) -> None:
            if stopping.is_set():  # a second signal: leave now, in-flight tasks are reclaimed
                os._exit(1)
            self.stdout.write(f"analysis_worker {worker_id}: finishing in-flight tasks")
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        with context.bound(context.for_command("analysis_worker")):
            self.stdout.write(
                f"analysis_worker {worker_id}: {threads} threads, queues {queue_name}"
            )
            self._dispatch(
                threads=threads,
                interval=interval,
                queues=queues,
                backend_name=backend_name,
                worker_id=worker_id,
                stopping=stopping,
            )

    def _dispatch(self, *, threads, interval, queues, backend_name, worker_id, stopping) -> None:
        slots = threading.BoundedSemaphore(threads)
        runner = Worker(
            queue_names=queues,
            interval=interval,
            batch=False,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )

        def run(task_result: DBTaskResult) -> None:
            try:
                runner.run_task(task_result)  # marks the task succeeded or failed, as db_worker
            finally:
                close_old_connections()
                slots.release()

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="analysis") as pool:
            while not stopping.is_set():
                if not slots.acquire(timeout=0.5):
                    continue
                task_result = self._claim(
                    queues=queues, backend_name=backend_name, worker_id=worker_id
                )
                if task_result is None:
                    slots.release()
                    close_old_connections()
                    stopping.wait(interval)
                    continue
                pool.submit(run, task_result)
        connections.close_all()

    @staticmethod
    def _claim(*, queues, backend_name, worker_id) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=backend_name)
        if "*" not in queues:
            tasks = tasks.filter(queue_name__in=queues)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(worker_id)
                return task_result
        except OperationalError as error:
            if is_locked_database_exception(error):  # SQLite busy: try again next round
                time.sleep(0.05)
                return None
            raise

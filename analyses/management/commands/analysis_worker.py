"""``manage.py analysis_worker``: ``task_worker`` sized for analyses (``ANALYSIS_WORKER_THREADS``
tasks at once) and patient with the database pool.

An analysis spends nearly all its time waiting on the LLM, so one process runs many at once in
threads: the kernel's durable worker (``core.task_worker``: leases with a heartbeat, the reaper,
outage survival) claims a task only when a thread is free. The measurement behind the default is
in docs/performance.md.
"""

from django.conf import settings
from django.db import connections

from core.management.commands import task_worker


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


class Command(task_worker.Command):
    help = "task_worker with ANALYSIS_WORKER_THREADS tasks at once (LLM calls wait on I/O)."
    default_threads_setting = "ANALYSIS_WORKER_THREADS"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", interval=0.2)  # every queue; short idle poll

    def handle(self, *args, **options) -> None:
        _patient_pool()
        super().handle(*args, **options)

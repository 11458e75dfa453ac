from django.conf import settings
from django_tasks_db.management.commands import db_worker

from core.task_worker import DurableWorker


class Command(db_worker.Command):
    help = (
        "Run background tasks: db_worker's options, plus leases (a task whose worker dies is "
        "re-run), a loop that outlives database outages, and --threads tasks at once. Use this, "
        "not db_worker."
    )
    default_threads_setting = "TASK_WORKER_THREADS"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--threads",
            type=int,
            default=getattr(settings, self.default_threads_setting),
            help="Tasks run at once in this process (threads; tasks mostly wait on I/O).",
        )

    def handle(self, *args, threads: int, **options) -> None:
        # db_worker builds its Worker inside handle(); swap the class for the duration.
        original = db_worker.Worker
        db_worker.Worker = type("DurableWorker", (DurableWorker,), {"threads": max(1, threads)})
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original

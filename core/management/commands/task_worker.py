from django_tasks_db.management.commands import db_worker

from core.task_worker import DurableWorker


class Command(db_worker.Command):
    help = (
        "Run background tasks: db_worker's options, plus leases (a task whose worker dies is "
        "re-run) and a loop that outlives database outages. Use this, not db_worker."
    )

    def handle(self, *args, **options) -> None:
        # db_worker builds its Worker inside handle(); swap the class for the duration.
        original = db_worker.Worker
        db_worker.Worker = DurableWorker
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original

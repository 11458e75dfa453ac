"""Background work of the accounts domain."""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from accounts import services
from audits.context import runs_in_request_context


def periodic_ensure_scheduled(*, periodic_task, delay_seconds: int) -> bool:
    """Enqueue the next run of ``periodic_task`` unless one is already waiting.

    Every run calls this when it finishes, so the chain keeps itself going; because it first looks
    for a waiting run, a second chain started by accident folds into the first.
    """
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.ready().filter(task_path=periodic_task.module_path).exists():
        return False
    run_after = timezone.now() + timedelta(seconds=delay_seconds)
    periodic_task.using(run_after=run_after).enqueue()
    return True


@task()
@runs_in_request_context
def expired_sessions_clear() -> dict:
    """Delete expired Django sessions, then schedule the next run."""
    removed = services.expired_sessions_clear()
    periodic_ensure_scheduled(
        periodic_task=expired_sessions_clear, delay_seconds=settings.HOUSEKEEPING_INTERVAL
    )
    return {"removed": removed}

"""Background work of the files app: extraction of each upload, and the stuck-file sweeper."""

from django.conf import settings

from core.tasks import background_task, periodic
from files import processing


@background_task()
def file_extract(file_id: str) -> None:
    """Extract one file's text (re-runnable: a finished or live-claimed file is left alone)."""
    processing.file_extract_run(file_id=file_id)


@periodic(every=lambda: max(60, settings.FILES_STUCK_AFTER // 2))
def files_stuck_sweep() -> None:
    """Re-enqueue extraction of files whose attempt died (until core's task leases land)."""
    processing.files_stuck_requeue()

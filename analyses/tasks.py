"""Background tasks of the analyses domain: they call services, nothing more."""

from django.conf import settings

from core.tasks import background_task, periodic


@background_task()
def analysis_run(analysis_id: str) -> str:
    """Run one queued analysis (a no-op if another worker claimed it or it was cancelled)."""
    from analyses.services import execution

    return execution.analysis_execute(analysis_id=analysis_id)


@periodic(every=lambda: settings.ANALYSIS_REAPER_INTERVAL)
def analyses_reap() -> dict:
    """Re-queue analyses whose worker died mid-call (their lease lapsed)."""
    from analyses.services import lifecycle

    return lifecycle.analyses_reap()


@periodic(every=lambda: settings.HOUSEKEEPING_INTERVAL)
def idempotency_keys_expire() -> dict:
    """Forget Idempotency-Keys older than 24 h."""
    from analyses.services import submission

    return {"removed": submission.idempotency_keys_expire()}

"""Cancel, retry and delete an analysis, and re-queue the ones whose worker died."""

from datetime import timedelta
from decimal import Decimal

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analyses import metrics, waiting
from analyses.models import Analysis, AnalysisAttempt, Status
from analyses.services.budget import Prices, budget_reserve, budget_settle
from analyses.services.execution import attempt_budget
from audits.services import audit_event_record
from core import context
from core.errors import Conflict, NotFound

logger = structlog.get_logger("parecer.analyses")


def _audit(action: str, analysis: Analysis, **details) -> None:
    audit_event_record(
        action=action, entity_type="analysis", entity_id=str(analysis.pk), details=details
    )


def _locked(analysis: Analysis, *, no_key: bool = False) -> Analysis:
    """The analysis's row, locked; 404 when a concurrent request deleted it since it was read."""
    row = Analysis.objects.select_for_update(no_key=no_key).filter(pk=analysis.pk).first()
    if row is None:
        raise NotFound("No such analysis.")
    return row


def analysis_cancel(*, analysis: Analysis) -> Analysis:
    """Queued: cancelled now (reservation released). Running: cancelled when the call returns."""
    with transaction.atomic():
        row = _locked(analysis, no_key=True)
        if row.status == Status.QUEUED:
            row.status = Status.CANCELLED
            row.finished_at = timezone.now()
            budget_settle(analysis=row, tokens=0, cost=Decimal(0), release=True)
            row.save()
            transaction.on_commit(lambda: waiting.analysis_done_announce(row.pk))
            transaction.on_commit(lambda: metrics.analysis_finished(row))
        elif row.status == Status.RUNNING:
            if not row.cancel_requested:
                row.cancel_requested = True
                row.save(update_fields=["cancel_requested", "updated_at"])
        else:
            raise Conflict(
                f"The analysis is already {row.status}.",
                code="analysis_finished",
                details={"status": row.status},
            )
        _audit("analysis.cancelled", row, status=row.status)
    return row


def analysis_retry(*, analysis: Analysis) -> Analysis:
    """failed or cancelled -> queued again, with a new budget reservation and attempt budget."""
    from analyses.tasks import analysis_run

    with transaction.atomic():
        row = _locked(analysis, no_key=True)
        if row.status not in (Status.FAILED, Status.CANCELLED):
            raise Conflict(
                "Only failed or cancelled analyses can be retried.",
                code="analysis_not_retryable",
                details={"status": row.status},
            )
        max_output = int(
            row.parameters.get("max_output_tokens") or settings.ANALYSIS_DEFAULT_MAX_OUTPUT_TOKENS
        )
        estimate = _input_estimate(row)
        tokens = estimate + max_output
        cost = Prices.for_model(row.model).cost(
            input_tokens=estimate, cached_input_tokens=0, output_tokens=max_output
        )
        row.budget_month = budget_reserve(user=row.owner, tokens=tokens, cost=cost)
        row.reserved_tokens, row.reserved_cost_usd = tokens, cost
        row.status = Status.QUEUED
        row.cancel_requested = False
        row.attempts_before_run = row.attempts
        row.error = None
        row.result_text, row.result_json = "", None
        row.finished_at = None
        row.queued_at = timezone.now()
        row.save()
        _audit("analysis.retried", row, attempts=row.attempts)
        context.enqueue(analysis_run, str(row.pk))
    return row


def _input_estimate(row: Analysis) -> int:
    # The stored rendered messages, not a re-render: the version may be archived by now.
    from prompts.rendering import estimate_tokens

    return estimate_tokens(row.messages)


def analysis_delete(*, analysis: Analysis) -> None:
    """Delete an analysis that is not running (a queued one's reservation is released)."""
    with transaction.atomic():
        row = _locked(analysis)
        if row.status == Status.RUNNING:
            raise Conflict(
                "A running analysis cannot be deleted; cancel it first.",
                code="analysis_running",
            )
        budget_settle(analysis=row, tokens=0, cost=Decimal(0), release=True)
        _audit(
            "analysis.deleted", row, status=row.status, prompt_version=str(row.prompt_version_id)
        )
        pk = row.pk
        row.delete()
        transaction.on_commit(lambda: waiting.analysis_done_announce(pk))  # its waiters: 404


def analyses_reap() -> dict:
    """Re-queue running analyses whose lease lapsed (their worker died); fail those out of attempts.

    The lapsed attempt is recorded as ``analysis_worker_lost``. The conditional update on the
    old lease token means a worker that was only slow, not dead, can no longer settle.
    """
    from analyses.tasks import analysis_run

    now = timezone.now()
    requeued = failed = 0
    lapsed = Analysis.objects.filter(status=Status.RUNNING, lease_expires_at__lt=now).values_list(
        "pk", "lease_token"
    )
    for pk, token in list(lapsed[:500]):
        with transaction.atomic():
            row = (
                Analysis.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(pk=pk, status=Status.RUNNING, lease_token=token)
                .first()
            )
            if row is None:
                continue
            error = {
                "code": "analysis_worker_lost",
                "message": "The worker running this analysis stopped before it finished.",
                "retryable": True,
                "upstream_status": None,
            }
            AnalysisAttempt.objects.get_or_create(
                analysis=row,
                number=row.attempts,
                defaults={
                    "started_at": row.lease_expires_at
                    - timedelta(seconds=settings.ANALYSIS_LEASE_SECONDS),
                    "finished_at": now,
                    "error": error,
                },
            )
            row.lease_token = None
            row.lease_expires_at = None
            row.error = error
            if row.cancel_requested:
                row.status = Status.CANCELLED
            elif row.attempts - row.attempts_before_run >= attempt_budget():
                row.status = Status.FAILED
            else:
                row.status = Status.QUEUED
                row.queued_at = now
            if row.status != Status.QUEUED:
                row.finished_at = now
                budget_settle(analysis=row, tokens=0, cost=Decimal(0), release=True)
                failed += 1
                if row.status == Status.FAILED:
                    _audit("analysis.failed", row, error=error, attempts=row.attempts)
                transaction.on_commit(lambda pk=row.pk: waiting.analysis_done_announce(pk))
            else:
                requeued += 1
                context.enqueue(analysis_run, str(row.pk))
            row.save()
            logger.warning("analysis_lease_lapsed", analysis_id=str(row.pk), now=row.status)
    return {"requeued": requeued, "finished": failed, "orphans": _orphans_requeue(now=now)}


def _orphans_requeue(*, now) -> int:
    """Enqueue a new task for analyses queued far longer than any backlog should last.

    Their task may have been lost (it failed before claiming, e.g. no database connection). A
    duplicate task is harmless: claiming is conditional, so only one runs the analysis.
    """
    from analyses.tasks import analysis_run

    stale = now - timedelta(seconds=settings.ANALYSIS_ORPHAN_AFTER)
    ids = list(
        Analysis.objects.filter(status=Status.QUEUED, queued_at__lt=stale).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in ids:
        with transaction.atomic():
            if Analysis.objects.filter(pk=pk, status=Status.QUEUED).update(queued_at=now):
                context.enqueue(analysis_run, str(pk))
    return len(ids)

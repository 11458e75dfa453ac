"""A worker runs one analysis: claim it under a lease, call the LLM, settle exactly once.

Every transition is a conditional write on the analysis row (status and lease token), so two
workers that both got a task for one analysis (a re-queue after a lost lease, a duplicate task)
cannot both run it, and only the lease holder records an attempt, usage and the outcome.
"""

import os
import socket
import uuid
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from analyses import metrics, waiting
from analyses.documents import analysis_changed
from analyses.models import OUTCOME_FIELDS, Analysis, AnalysisAttempt, Status
from analyses.services.budget import Prices, budget_settle
from audits.services import audit_event_record
from core import context
from core.tasks import retry_delay

logger = structlog.get_logger("parecer.analyses")

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


def attempt_budget() -> int:
    from prompts.configuration import config_get

    return max(1, int(config_get("analysis_attempt_budget")))


def analysis_claim(*, analysis_id: str) -> tuple[Analysis, uuid.UUID] | None:
    """queued -> running under a fresh lease; None if another worker (or a cancel) got there first."""
    token = uuid.uuid4()
    now = timezone.now()
    won = Analysis.objects.filter(pk=analysis_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        lease_token=token,
        lease_expires_at=now + timedelta(seconds=settings.ANALYSIS_LEASE_SECONDS),
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not won:
        return None
    analysis = Analysis.objects.select_related("prompt_version").get(pk=analysis_id)
    if analysis.started_at is None:
        # Queue wait: from admission to the first claim (retries wait on purpose, not counted).
        wait = now - (analysis.queued_at or analysis.created_at)
        analysis.started_at = now
        analysis.queue_wait_ms = max(0, int(wait.total_seconds() * 1000))
        Analysis.objects.filter(pk=analysis.pk).update(
            started_at=now, queue_wait_ms=analysis.queue_wait_ms
        )
        metrics.QUEUE_WAIT.observe(analysis.queue_wait_ms / 1000)
    analysis_changed(analysis.pk)  # both updates above bypass Analysis.save
    return analysis, token


def _images(analysis: Analysis) -> list:
    from analyses import llm
    from files import selectors as file_selectors

    images = []
    for file in analysis.files.all():
        if file.content_type in llm.IMAGE_MIME_TYPES:
            data = file_selectors.file_bytes(file=file)
            images.append(llm.ImageInput(data=data, mime_type=file.content_type))
    return images


def analysis_execute(*, analysis_id: str) -> str:
    """Run one queued analysis end to end; returns what happened (for the task's result)."""
    # Imported here, not at the top: the SDK costs ~1 s to import and web processes never call it.
    from analyses import llm

    claimed = analysis_claim(analysis_id=analysis_id)
    if claimed is None:
        return "not_claimed"
    analysis, token = claimed
    started = timezone.now()
    version = analysis.prompt_version
    images = _images(analysis) if analysis.input_files else ()
    if not connection.in_atomic_block:
        # Hand the connection back to the pool for the seconds the LLM takes: a worker with 32
        # threads then needs a connection only while it writes (DB_POOL_MAX_SIZE stays small).
        connection.close()
    try:
        result = llm.llm_call(
            model=analysis.model,
            messages=analysis.messages,
            parameters=analysis.parameters,
            output_schema=version.output_schema,
            images=images,
            api_style=analysis.api_style or None,
        )
        error = None
    except llm.LLMError as exc:
        result, error = exc.result, exc
    return _settle(analysis=analysis, token=token, started=started, result=result, error=error)


def _settle(*, analysis: Analysis, token: uuid.UUID, started, result, error) -> str:
    from analyses import llm

    prices = Prices.for_model(analysis.model)
    usage = result.usage if result is not None else llm.Usage()
    cost = prices.cost(
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
    )
    latency = error.latency_ms if error is not None else result.latency_ms
    with transaction.atomic():
        row = (
            Analysis.objects.select_for_update(no_key=True)
            .filter(pk=analysis.pk, status=Status.RUNNING, lease_token=token)
            .first()
        )
        if row is None:
            # Our lease lapsed and the reaper gave the analysis to another worker: its outcome
            # and usage are that worker's to record, never twice.
            logger.warning("analysis_result_discarded", analysis_id=str(analysis.pk))
            return "discarded"
        now = timezone.now()
        AnalysisAttempt.objects.create(
            analysis=row,
            number=row.attempts,
            started_at=started,
            finished_at=now,
            error=_error_dict(error) if error else None,
            model=result.model if result else "",
            response_id=result.response_id if result else "",
            upstream_request_id=(result.upstream_request_id if result else None)
            or (error.upstream_request_id if error else None)
            or "",
            finish_reason=(result.finish_reason or "") if result else "",
            latency_ms=latency,
            input_tokens=usage.input_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            worker=WORKER_NAME,
        )
        row.input_tokens += usage.input_tokens
        row.cached_input_tokens += usage.cached_input_tokens
        row.output_tokens += usage.output_tokens
        row.reasoning_tokens += usage.reasoning_tokens
        row.cost_usd += cost
        row.lease_token = None
        row.lease_expires_at = None
        retry_after = _retry_after(row, error)
        if retry_after is not None:
            row.status = Status.QUEUED
            row.error = _error_dict(error)
            row.queued_at = now + timedelta(seconds=retry_after)
            metrics.RETRIES.labels(error.code).inc()
        elif row.cancel_requested:
            # Cancelled while the call ran: the result is discarded, the usage is still billed.
            row.status = Status.CANCELLED
            row.finished_at = now
        elif error is None:
            row.status = Status.SUCCEEDED
            row.result_text = result.text
            row.result_json = result.parsed_json
            row.error = None
            row.finished_at = now
        else:
            row.status = Status.FAILED
            row.error = _error_dict(error)
            if result is not None:  # refusal or invalid output: keep what the model said
                row.result_text = result.text
            row.finished_at = now
        final = row.status != Status.QUEUED
        budget_settle(
            analysis=row,
            tokens=usage.input_tokens + usage.output_tokens,
            cost=cost,
            release=final,
        )
        row.save(update_fields=list(_SETTLED_FIELDS))
        if row.status == Status.FAILED:
            audit_event_record(
                action="analysis.failed",
                entity_type="analysis",
                entity_id=str(row.pk),
                details={"error": row.error, "attempts": row.attempts},
            )
        if retry_after is not None:
            from analyses.tasks import analysis_run

            run_after = timezone.now() + timedelta(seconds=retry_after)
            context.enqueue(analysis_run.using(run_after=run_after), str(row.pk))
        else:
            transaction.on_commit(lambda: waiting.analysis_done_announce(row.pk))
    metrics.attempt_observed(
        model=analysis.model,
        outcome=error.code if error else "ok",
        latency_ms=latency,
        usage=usage,
        cost=cost,
    )
    if final:
        metrics.analysis_finished(row)
    return row.status


_SETTLED_FIELDS = (
    "status",
    *OUTCOME_FIELDS,
    "lease_token",
    "lease_expires_at",
    "queued_at",
    "finished_at",
    "reserved_tokens",
    "reserved_cost_usd",
    "budget_month",
    "updated_at",
)


def _retry_after(row: Analysis, error) -> float | None:
    """Seconds to wait before the next attempt, or None when this outcome is final."""
    if error is None or not error.retryable or row.cancel_requested:
        return None
    attempts_this_run = row.attempts - row.attempts_before_run
    if attempts_this_run >= attempt_budget():
        return None
    return retry_delay(
        attempts_this_run,
        base=settings.ANALYSIS_RETRY_BASE_SECONDS,
        cap=settings.ANALYSIS_RETRY_CAP_SECONDS,
        retry_after=error.retry_after,
    )


def _error_dict(error) -> dict:
    return {
        "code": error.code,
        "message": error.message,
        "retryable": error.retryable,
        "upstream_status": error.upstream_status,
    }

"""Admission: everything wrong with a request fails here, before anything is queued."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from analyses import metrics, waiting
from analyses.models import Analysis, IdempotencyKey, Status
from analyses.services.budget import Prices, budget_reserve, month_start
from audits.services import audit_event_record
from core import context
from core.errors import Conflict, DomainError, InvalidInput

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Submitted:
    analysis: Analysis
    created: bool  # False when an Idempotency-Key replayed an earlier submission


def canonical_sha256(value: Any) -> str:
    body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _model_check(model: str) -> None:
    from prompts.configuration import config_get

    allowed = config_get("allowed_models") or []
    if model not in allowed:
        raise InvalidInput(
            f"The prompt version's model {model!r} is not in the allowed models.",
            code="model_not_allowed",
            details=[
                {"field": "prompt", "in": "body", "reason": "model_not_allowed", "type": model}
            ],
        )


def _file_variables(files: list) -> list[dict]:
    """What a template sees of the input files: name, type and extracted text (none for images)."""
    from analyses import llm
    from files import selectors as file_selectors

    return [
        {
            "id": str(file.pk),
            "name": file.name,
            "content_type": file.content_type,
            "text": ""
            if file.content_type in llm.IMAGE_MIME_TYPES
            else file_selectors.file_text(file=file),
        }
        for file in files
    ]


def _idempotent_replay(*, user, key: str, request_hash: str) -> Analysis | None:
    """The analysis an unexpired ``key`` made (same body), 409 for another body, else None."""
    row = IdempotencyKey.objects.filter(owner=user, key=key).select_related("analysis").first()
    if row is None:
        return None
    if row.created_at < timezone.now() - IDEMPOTENCY_TTL:
        row.delete()
        return None
    if row.request_hash != request_hash:
        raise Conflict(
            "This Idempotency-Key was used with a different request body.",
            code="idempotency_key_reused",
            details={"analysis_id": str(row.analysis_id)},
        )
    return row.analysis


class _KeyTaken(Exception):
    """Another request committed the same Idempotency-Key first: roll ours back, replay theirs."""


def analysis_submit(
    *,
    user,
    api_key=None,
    prompt_slug: str,
    label: str | None = None,
    version: int | None = None,
    variables: dict[str, Any],
    file_ids: list[uuid.UUID],
    use_cache: bool = False,
    idempotency_key: str | None = None,
) -> Submitted:
    """Validate, admit (budget, idempotency, cache) and queue one analysis."""
    request_hash = canonical_sha256(
        {
            "prompt": prompt_slug,
            "label": label,
            "version": version,
            "variables": variables,
            "file_ids": [str(file_id) for file_id in file_ids],
            "cache": use_cache,
        }
    )
    if idempotency_key:
        replay = _idempotent_replay(user=user, key=idempotency_key, request_hash=request_hash)
        if replay is not None:
            return Submitted(analysis=replay, created=False)
    try:
        return _admit(
            user=user,
            api_key=api_key,
            prompt_slug=prompt_slug,
            label=label,
            version=version,
            variables=variables,
            file_ids=file_ids,
            use_cache=use_cache,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
    except _KeyTaken:
        replay = _idempotent_replay(user=user, key=idempotency_key, request_hash=request_hash)
        if replay is None:  # the other request's analysis went away meanwhile
            raise Conflict("Retry the request.", code="idempotency_key_in_flight") from None
        return Submitted(analysis=replay, created=False)
    except DomainError as error:
        if error.code == "budget_exceeded":
            with transaction.atomic():
                audit_event_record(
                    action="analysis.budget_refused",
                    entity_type="user",
                    entity_id=str(user.pk),
                    details={"prompt": prompt_slug, **(error.details or {})},
                )
        raise


def _admit(
    *,
    user,
    api_key,
    prompt_slug: str,
    label: str | None,
    version: int | None,
    variables: dict[str, Any],
    file_ids: list[uuid.UUID],
    use_cache: bool,
    idempotency_key: str | None,
    request_hash: str,
) -> Submitted:
    from prompts import rendering
    from prompts import selectors as prompt_selectors

    prompt_version = prompt_selectors.prompt_version_resolve(
        slug=prompt_slug, label=label, version=version
    )
    model = prompt_version.model or _default_model()
    _model_check(model)
    files = _files(user=user, file_ids=file_ids)
    render_variables = dict(variables)
    if files:
        render_variables["files"] = _file_variables(files)
    rendered = rendering.prompt_render(version=prompt_version, variables=render_variables)
    parameters = dict(prompt_version.parameters or {})
    max_output = int(
        parameters.get("max_output_tokens") or settings.ANALYSIS_DEFAULT_MAX_OUTPUT_TOKENS
    )
    input_files = [
        {"id": str(f.pk), "name": f.name, "sha256": f.sha256, "content_type": f.content_type}
        for f in files
    ]
    cache_key = canonical_sha256(
        {
            "version": str(prompt_version.pk),
            "messages": rendered.sha256,
            "model": model,
            "parameters": parameters,
            "files": [f["sha256"] for f in input_files],
        }
    )
    reserved_tokens = rendered.estimated_input_tokens + max_output
    reserved_cost = Prices.for_model(model).cost(
        input_tokens=rendered.estimated_input_tokens,
        cached_input_tokens=0,
        output_tokens=max_output,
    )
    now = timezone.now()
    analysis = Analysis(
        owner=user,
        api_key=api_key,
        prompt=prompt_version.prompt,  # loaded with the version: the reply needs its slug
        prompt_version=prompt_version,
        label=label or "",
        model=model,
        api_style=prompt_version.api_style or "",
        parameters=parameters,
        variables=variables,
        messages=rendered.messages,
        messages_sha256=rendered.sha256,
        input_files=input_files,
        cache_key=cache_key,
        queued_at=now,
    )
    # One transaction; the two row locks it needs (the owner's budget month, the audit chain's
    # head) are taken last, so concurrent submissions wait on each other for as few statements
    # as possible.
    try:
        with transaction.atomic():
            source = _cached_result(user=user, cache_key=cache_key) if use_cache else None
            if source is not None:
                _born_from_cache(analysis, source=source, now=now)
            else:
                analysis.budget_month = month_start(now)
                analysis.reserved_tokens = reserved_tokens
                analysis.reserved_cost_usd = reserved_cost
            analysis.save()
            if files:
                analysis.files.set(files)
            if idempotency_key:
                try:
                    with transaction.atomic():
                        IdempotencyKey.objects.create(
                            owner=user,
                            key=idempotency_key,
                            request_hash=request_hash,
                            analysis=analysis,
                        )
                except IntegrityError:
                    raise _KeyTaken() from None
            if source is None:  # a refusal rolls back before a task exists
                budget_reserve(
                    user=user,
                    tokens=reserved_tokens,
                    cost=reserved_cost,
                    month=analysis.budget_month,
                )
            if analysis.status == Status.QUEUED:
                from analyses.tasks import analysis_run

                context.enqueue(analysis_run, str(analysis.pk))
            else:
                transaction.on_commit(lambda: waiting.analysis_done_announce(analysis.pk))
            audit_event_record(
                action="analysis.created",
                entity_type="analysis",
                entity_id=str(analysis.pk),
                details={
                    "prompt": prompt_slug,
                    "version": prompt_version.number,
                    "model": model,
                    "cache_hit": analysis.cache_hit,
                    "files": [f["id"] for f in input_files],
                },
            )
    except _KeyTaken:
        raise
    metrics.analysis_created(analysis)
    return Submitted(analysis=analysis, created=True)


def _files(*, user, file_ids: list[uuid.UUID]) -> list:
    """The caller's ready files, in the order given (404 ``file_not_found``, 409 ``file_not_ready``)."""
    if not file_ids:
        return []
    from files import selectors as file_selectors

    return file_selectors.files_for_analysis(user=user, file_ids=file_ids)


def _default_model() -> str:
    from prompts.configuration import config_get

    return config_get("default_model")


def _cached_result(*, user, cache_key: str) -> Analysis | None:
    """The newest succeeded, non-cached analysis of this user with this key, within the TTL."""
    from prompts.configuration import config_get

    ttl = int(config_get("analysis_cache_ttl_seconds"))
    return (
        Analysis.objects.filter(
            owner=user,
            cache_key=cache_key,
            status=Status.SUCCEEDED,
            cache_hit=False,
            finished_at__gte=timezone.now() - timedelta(seconds=ttl),
        )
        .order_by("-finished_at")
        .first()
    )


def _born_from_cache(analysis: Analysis, *, source: Analysis, now) -> None:
    analysis.status = Status.SUCCEEDED
    analysis.cache_hit = True
    analysis.cached_from = source
    analysis.result_text = source.result_text
    analysis.result_json = source.result_json
    analysis.cost_usd = Decimal(0)
    analysis.started_at = analysis.finished_at = now
    analysis.queue_wait_ms = 0


def idempotency_keys_expire() -> int:
    """Delete Idempotency-Keys past their 24 h; returns how many."""
    removed, _ = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_TTL
    ).delete()
    return removed

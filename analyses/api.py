"""Submitting, waiting for, cancelling and retrying analyses."""

import uuid

from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Router, Status
from ninja.pagination import paginate

from accounts.auth import api_auth
from analyses import documents, schemas, selectors, waiting
from analyses.models import FINAL_STATUSES
from analyses.services import lifecycle, submission
from core import document_cache
from core.errors import ErrorOut
from core.permissions import any_user, get_object_or_404, is_staff_member
from core.responses import json_rendered, json_response

router = Router()

NOT_FOUND = "No such analysis."
API_PREFIX = "/api/v1/analyses"


def _finished_or_accepted(response: HttpResponse, analysis) -> Status:
    response["Location"] = f"{API_PREFIX}/{analysis.pk}"
    return Status(200 if analysis.status in FINAL_STATUSES else 202, analysis)


@router.post(
    "",
    response={
        200: schemas.AnalysisDetailOut,
        202: schemas.AnalysisDetailOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
)
@any_user
def analysis_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: schemas.AnalysisIn,
    query: Query[schemas.WaitQuery],
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=255),
):
    """Queue an analysis: 202 + Location; with ``?wait=N`` 200 once finished within N seconds."""
    submitted = submission.analysis_submit(
        user=request.auth,
        api_key=getattr(request, "api_key", None),
        prompt_slug=payload.prompt,
        label=payload.label,
        version=payload.version,
        variables=payload.variables,
        file_ids=payload.file_ids,
        use_cache=payload.cache,
        idempotency_key=idempotency_key or None,
    )
    analysis = waiting.analysis_wait(analysis=submitted.analysis, seconds=query.wait)
    return _finished_or_accepted(response, analysis)


@router.get("", response={200: list[schemas.AnalysisOut], 401: ErrorOut, 403: ErrorOut})
@paginate
@any_user
def analysis_list(request: HttpRequest, filters: Query[schemas.AnalysisFilters]):
    """Newest first: your own analyses (staff: everyone's)."""
    return selectors.analyses_list(actor=request.auth, **filters.dict())


@router.get(
    "/{analysis_id}",
    response={
        200: schemas.AnalysisDetailOut,
        202: schemas.AnalysisDetailOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
    },
    auth=api_auth(document_key=documents.analysis_document_key),
)
@any_user
def analysis_get(
    request: HttpRequest,
    analysis_id: uuid.UUID,
    query: Query[schemas.WaitQuery],
):
    """One analysis: 200 when finished, 202 while queued or running (``?wait=N`` holds)."""
    actor = request.auth
    cached = documents.analysis_document_cached(analysis_id, request=request)
    if (
        cached is not None
        and (cached.final or not query.wait)
        and (cached.owner_id == actor.pk or is_staff_member(actor))
    ):
        return _document_response(cached, analysis_id)
    started = document_cache.read_started()
    analysis = get_object_or_404(
        selectors.analyses_shown(actor=actor), pk=analysis_id, message=NOT_FOUND
    )
    analysis = waiting.analysis_wait(analysis=analysis, seconds=query.wait)
    document = _document(request, analysis)
    documents.analysis_document_fill(analysis_id, document, started=started)
    return _document_response(document, analysis_id)


def _document(request: HttpRequest, analysis) -> documents.AnalysisDocument:
    final = analysis.status in FINAL_STATUSES
    status = 200 if final else 202
    body = json_rendered(request, schemas.AnalysisDetailOut, analysis, status=status)
    return documents.AnalysisDocument(
        owner_id=analysis.owner_id, status_code=status, body=body, final=final
    )


def _document_response(document: documents.AnalysisDocument, analysis_id) -> HttpResponse:
    response = json_response(document.body, status=document.status_code)
    response["Location"] = f"{API_PREFIX}/{analysis_id}"
    return response


@router.post(
    "/{analysis_id}/cancel",
    response={
        200: schemas.AnalysisDetailOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
)
@any_user
def analysis_cancel(request: HttpRequest, analysis_id: uuid.UUID):
    """Queued: cancelled now. Running: cancelled when its call returns (usage still billed)."""
    analysis = get_object_or_404(
        selectors.analyses_visible(actor=request.auth), pk=analysis_id, message=NOT_FOUND
    )
    return lifecycle.analysis_cancel(analysis=analysis)


@router.post(
    "/{analysis_id}/retry",
    response={
        202: schemas.AnalysisDetailOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        429: ErrorOut,
    },
)
@any_user
def analysis_retry(request: HttpRequest, response: HttpResponse, analysis_id: uuid.UUID):
    """Queue a failed or cancelled analysis again."""
    analysis = get_object_or_404(
        selectors.analyses_visible(actor=request.auth), pk=analysis_id, message=NOT_FOUND
    )
    analysis = lifecycle.analysis_retry(analysis=analysis)
    response["Location"] = f"{API_PREFIX}/{analysis.pk}"
    return Status(202, analysis)


@router.delete(
    "/{analysis_id}",
    response={204: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
@any_user
def analysis_delete(request: HttpRequest, analysis_id: uuid.UUID):
    """Delete one of your analyses that is not running."""
    analysis = get_object_or_404(
        selectors.analyses_visible(actor=request.auth).filter(owner=request.auth),
        pk=analysis_id,
        message=NOT_FOUND,
    )
    lifecycle.analysis_delete(analysis=analysis)
    return Status(204, None)

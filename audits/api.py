"""/audits: record external events, read and review the trail, export it, verify the chain."""

import csv
import io
import json
import uuid
from collections.abc import Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Status
from ninja.pagination import paginate

from audits import chain, schemas, selectors, services
from core.errors import ErrorOut
from core.permissions import Role, any_user, get_object_or_404, requires

router = Router()


def _filters(filters: schemas.AuditFilters) -> dict:
    values = filters.dict(exclude={"format"})
    values["actor_id"] = str(values["actor_id"]) if values["actor_id"] else None
    return values


@router.post("", response={201: schemas.AuditEventOut, 403: ErrorOut, 413: ErrorOut})
@any_user
def audit_event_create(request: HttpRequest, payload: schemas.AuditEventIn):
    """Record an event from another system; you (or your API key) are its actor."""
    event = services.audit_event_external_record(
        action=payload.action,
        entity_type=payload.entity_type,
        entity_id=payload.entity_id,
        details=payload.details,
        occurred_at=payload.occurred_at,
    )
    return Status(201, event)


@router.get("", response=list[schemas.AuditEventOut])
@paginate
@any_user
def audit_event_list(request: HttpRequest, filters: Query[schemas.AuditFilters]):
    """Newest first. Users see the events they caused; staff and admins see all."""
    return selectors.audit_event_listing(actor=request.auth, **_filters(filters))


EXPORT_MEDIA_TYPES = {
    200: {
        "description": "Every matching event: one JSON object per line, or CSV with a header row.",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


@router.get(
    "/export",
    response={200: None, 403: ErrorOut},
    openapi_extra={"responses": EXPORT_MEDIA_TYPES},
)
@requires(Role.STAFF)
def audit_event_export(request: HttpRequest, filters: Query[schemas.ExportFilters]):
    """Staff: every matching event, oldest first, streamed as NDJSON or CSV."""
    events = selectors.audit_event_list(actor=request.auth, **_filters(filters))
    rows = (
        schemas.AuditEventOut.model_validate(event).model_dump(mode="json")
        for event in selectors.audit_event_export_iter(events=events)
    )
    if filters.format == "csv":
        body, content_type = _csv_lines(rows), "text/csv; charset=utf-8"
    else:
        body = (json.dumps(row, cls=DjangoJSONEncoder) + "\n" for row in rows)
        content_type = "application/x-ndjson"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-events.{filters.format}"'
    return response


_FORMULA_STARTS = ("=", "+", "-", "@")
_CONTROL_STARTS = ("\t", "\r", "\n")


def _csv_safe(value):
    """Cells a spreadsheet would run as a formula are prefixed with a quote, including those
    that hide the formula behind leading whitespace or line breaks (spreadsheets strip them)."""
    if not isinstance(value, str):
        return value
    if value[:1] in _FORMULA_STARTS + _CONTROL_STARTS or (
        value.lstrip(" \t\r\n")[:1] in _FORMULA_STARTS
    ):
        return "'" + value
    return value


def _csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    columns = list(schemas.AuditEventOut.model_fields)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        row["actor"] = json.dumps(row["actor"])
        row["details"] = json.dumps(row["details"])
        writer.writerow({key: _csv_safe(value) for key, value in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@router.get("/verify", response={200: schemas.VerificationOut, 403: ErrorOut})
@requires(Role.ADMIN)
def audit_chain_verify(request: HttpRequest):
    """Admins: walk the HMAC chain and report the first broken link, if any."""
    return chain.chain_verify().as_dict()


def _event_or_404(request: HttpRequest, event_id: uuid.UUID):
    return get_object_or_404(
        selectors.audit_event_visible(actor=request.auth),
        pk=event_id,
        message="No such audit event.",
    )


@router.get("/{event_id}", response={200: schemas.AuditEventOut, 404: ErrorOut})
@any_user
def audit_event_get(request: HttpRequest, event_id: uuid.UUID):
    return _event_or_404(request, event_id)


@router.patch("/{event_id}", response={200: schemas.AuditEventOut, 403: ErrorOut, 404: ErrorOut})
@requires(Role.STAFF)
def audit_event_review(request: HttpRequest, event_id: uuid.UUID, payload: schemas.AuditReviewIn):
    """Staff: set the review status and note; nothing else about an event can change."""
    return services.audit_event_review(
        event=_event_or_404(request, event_id),
        reviewer=request.auth,
        status=payload.status,
        review_note=payload.review_note,
    )


@router.delete("/{event_id}", response={204: None, 403: ErrorOut, 404: ErrorOut})
@requires(Role.ADMIN)
def audit_event_redact(request: HttpRequest, event_id: uuid.UUID):
    """Admins: redact (details emptied, row kept, chain still valid). Nothing erases an event."""
    services.audit_event_redact(event=_event_or_404(request, event_id), redactor=request.auth)
    return Status(204, None)

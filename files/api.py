"""/files: upload (multipart, streamed), list, metadata, content (ranges, ETag), text, delete."""

import uuid

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from core.errors import ErrorOut, PermissionDenied
from core.permissions import any_user, get_object_or_404, is_admin
from files import schemas, selectors, services
from files.content_response import file_content_response
from files.models import FileStatus
from files.receiving import upload_receive

router = Router()

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "purpose": {
                            "type": "string",
                            "maxLength": 64,
                            "pattern": "^[A-Za-z0-9_.:-]*$",
                        },
                    },
                }
            }
        },
    }
}
_NOT_FOUND = "No such file."


def _visible(request: HttpRequest, file_id: uuid.UUID):
    return get_object_or_404(
        selectors.files_visible_to(actor=request.auth), pk=file_id, message=_NOT_FOUND
    )


@router.post(
    "",
    response={
        200: schemas.FileOut,
        201: schemas.FileOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
    },
    url_name="file_upload",
    openapi_extra=_UPLOAD_BODY,
)
@any_user
def file_upload(request: HttpRequest):
    """Upload one file (multipart field `file`, optional `purpose`). 201 for new bytes; 200 with
    the existing file when you already uploaded the same bytes. Poll GET /files/{id} for `ready`."""
    received = upload_receive(request)
    try:
        file, created = services.file_upload(
            owner=request.auth, upload=received.file, purpose=received.purpose
        )
    finally:
        received.file.close()
    return Status(201 if created else 200, file)


@router.get("", response={200: list[schemas.FileOut], 401: ErrorOut})
@paginate
@any_user
def file_list(request: HttpRequest, filters: Query[schemas.FileFilters]):
    """Newest first: your files (staff and admins: everyone's)."""
    return selectors.files_list(actor=request.auth, **filters.dict())


@router.get("/{file_id}", response={200: schemas.FileOut, 401: ErrorOut, 404: ErrorOut})
@any_user
def file_get(request: HttpRequest, file_id: uuid.UUID):
    """One file's metadata and processing status."""
    return _visible(request, file_id)


@router.get(
    "/{file_id}/content",
    response={200: None, 206: None, 304: None, 401: ErrorOut, 404: ErrorOut, 416: ErrorOut},
)
@any_user
def file_content(request: HttpRequest, file_id: uuid.UUID):
    """The bytes, as an attachment. Supports `If-None-Match` (ETag = SHA-256) and one `Range`."""
    file = _visible(request, file_id)
    response = file_content_response(request, file)
    if response.status_code in (200, 206):
        services.file_download_record(file=file, actor=request.auth)
    return response


@router.get(
    "/{file_id}/text",
    response={200: schemas.TextSliceOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
@any_user
def file_text(request: HttpRequest, file_id: uuid.UUID, page: Query[schemas.TextSliceQuery]):
    """A slice of the extracted text (409 `file_not_ready` until status is `ready`)."""
    file = _visible(request, file_id)
    if file.status != FileStatus.READY:
        from core.errors import Conflict

        raise Conflict(
            f"The file is {file.status}; text is available once it is ready.",
            code="file_not_ready",
            details={"status": file.status, "error_code": file.error_code},
        )
    total = file.text_chars or 0
    text = selectors.file_text_slice(file=file, offset=page.offset, limit=page.limit)
    end = page.offset + len(text)
    return {
        "file_id": file.pk,
        "offset": page.offset,
        "limit": page.limit,
        "total_chars": total,
        "truncated": file.truncated,
        "text": text,
        "next_offset": end if end < total else None,
    }


@router.delete(
    "/{file_id}", response={204: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
)
@any_user
def file_delete(request: HttpRequest, file_id: uuid.UUID):
    """Delete the file and its bytes (409 `file_in_use` while an analysis uses it). Only the
    owner or an admin may delete; staff may read any file but not delete it."""
    file = _visible(request, file_id)
    if file.owner_id != request.auth.pk and not is_admin(request.auth):
        raise PermissionDenied("Only the file's owner or an admin may delete it.")
    services.file_delete(file=file, actor=request.auth)
    return Status(204, None)

"""The HTTP edge of an upload: install the streaming handler before anything reads the body,
then turn the parsed multipart body into one checked upload (or an enveloped error).

The middleware must run before CSRF checks and authentication, either of which may read
``request.POST`` and so parse the body with whatever handlers are installed at that moment.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse

from core.errors import DomainError, InvalidInput
from files.limits import files_limit
from files.upload_handler import HashedTemporaryUploadedFile, StreamingHashUploadHandler

_PURPOSE_RE = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")


class UploadStreamingMiddleware:
    """On ``POST /api/v1/files`` only: the streaming, hashing, size-capped upload handler."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._path: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._path is None:
            self._path = reverse("api:file_upload").rstrip("/")
        if request.method == "POST" and request.path.rstrip("/") == self._path:
            request.upload_handlers = [
                StreamingHashUploadHandler(request, max_bytes=files_limit("upload_max_bytes"))
            ]
        return self.get_response(request)


@dataclass(frozen=True)
class ReceivedUpload:
    file: HashedTemporaryUploadedFile
    purpose: str


def _bad_request(message: str, *, code: str, reason: str) -> DomainError:
    return DomainError(
        message, code=code, status=400, details=[{"field": "file", "in": "body", "reason": reason}]
    )


def _invalid(message: str, *, field: str, reason: str, kind: str) -> InvalidInput:
    return InvalidInput(
        message,
        code="validation_error",
        details=[{"field": field, "in": "body", "reason": reason, "type": kind}],
    )


def _too_large(max_bytes: int) -> DomainError:
    return DomainError(
        f"The file is larger than the {max_bytes} bytes allowed.",
        code="file_too_large",
        status=413,
        details={"max_bytes": max_bytes},
    )


def _handler_of(request: HttpRequest) -> StreamingHashUploadHandler | None:
    handlers = getattr(request, "_upload_handlers", None) or []
    return next((h for h in handlers if isinstance(h, StreamingHashUploadHandler)), None)


def _body_complete(request: HttpRequest) -> bool:
    """False when the client sent fewer bytes than its Content-Length (it went away)."""
    stream = getattr(request, "_stream", None)
    received, limit = getattr(stream, "_pos", None), getattr(stream, "limit", None)
    return received is None or limit is None or received >= limit


def _close_all(request: HttpRequest) -> None:
    for _, parts in request.FILES.lists():
        for part in parts:
            part.close()


def upload_receive(request: HttpRequest) -> ReceivedUpload:
    """Parse the multipart body of an upload; every failure is a client error, never a 500."""
    if request.content_type != "multipart/form-data":
        raise DomainError(
            f"Upload with multipart/form-data (got {request.content_type or 'no Content-Type'}).",
            code="unsupported_media_type",
            status=415,
        )
    handler = _handler_of(request)
    max_bytes = handler.max_bytes if handler else files_limit("upload_max_bytes")
    try:
        files, fields = request.FILES, request.POST
    except MultiPartParserError as exc:
        raise _bad_request(
            "The multipart body could not be parsed.",
            code="malformed_multipart",
            reason=str(exc)[:200],
        ) from None
    except TooManyFilesSent:
        raise _invalid(
            "Send exactly one file.", field="file", reason="too many files", kind="too_many"
        ) from None
    except RequestDataTooBig:
        raise DomainError(
            "The form fields are too large.", code="payload_too_large", status=413
        ) from None
    except (UnreadablePostError, OSError):
        raise _bad_request(
            "The upload ended before its declared length.",
            code="upload_incomplete",
            reason="truncated",
        ) from None
    if handler is not None and handler.too_large:
        _close_all(request)
        raise _too_large(max_bytes)
    if not _body_complete(request):
        _close_all(request)
        raise _bad_request(
            "The upload ended before its declared length.",
            code="upload_incomplete",
            reason="truncated",
        )
    parts = files.getlist("file")
    if len(parts) != 1 or len(files) != 1:
        _close_all(request)
        reason = "missing" if not parts else "more than one file part"
        raise _invalid(
            "Send exactly one file, in the field `file`.", field="file", reason=reason, kind=reason
        )
    purposes = fields.getlist("purpose")
    purpose = purposes[0] if purposes else ""
    if len(purposes) > 1 or not _PURPOSE_RE.match(purpose):
        _close_all(request)
        raise _invalid(
            "`purpose` is at most 64 letters, digits or _.:-",
            field="purpose",
            reason="invalid",
            kind="string_pattern_mismatch",
        )
    part = parts[0]
    if not isinstance(part, HashedTemporaryUploadedFile):  # the middleware was bypassed
        _close_all(request)
        raise DomainError(
            "Uploads must stream through the upload handler.", code="bad_request", status=400
        )
    return ReceivedUpload(file=part, purpose=purpose)

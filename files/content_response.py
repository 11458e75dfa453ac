"""The HTTP response of ``GET /files/{id}/content``: streamed from storage, with a strong ETag
(the SHA-256), conditional GET (304), a single byte range (206/416) and a safe
``Content-Disposition`` (RFC 6266 / RFC 5987)."""

import re
import unicodedata
from urllib.parse import quote

import structlog
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from core.errors import DomainError, NotFound
from files.blobs import BlobMissing, blob_chunks
from files.models import File

logger = structlog.get_logger("parecer.files")

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name."""
    # Accents dropped (é -> e); anything else outside a safe ASCII set becomes "_".
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(char for char in decomposed if not unicodedata.combining(char))
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()-]", "_", ascii_name).strip() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in candidates or etag in candidates


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """``(start, end)`` inclusive; None to ignore the header (serve 200); False if unsatisfiable."""
    match = _RANGE_RE.match(header.strip())
    if match is None:  # several ranges or another unit: ignoring it is allowed (RFC 9110 14.2)
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


def _common_headers(response: HttpResponse, file: File, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = content_disposition(file.name)
    response["Cache-Control"] = "private, no-cache"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def file_content_response(request: HttpRequest, file: File) -> HttpResponse:
    etag = f'"{file.sha256}"'
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _etag_matches(if_none_match, etag):
        return _common_headers(HttpResponse(status=304), file, etag)
    wanted = None
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and (not if_range or if_range.strip() == etag):
        wanted = _byte_range(range_header, file.size)
    if wanted is False:
        raise DomainError(
            f"The range is outside the file's {file.size} bytes.",
            code="range_not_satisfiable",
            status=416,
            headers={"Content-Range": f"bytes */{file.size}"},
        )
    start, end = wanted if wanted else (0, file.size - 1)
    try:
        chunks = blob_chunks(
            key=file.storage_key, start=start, length=(end - start + 1) if wanted else None
        )
    except BlobMissing:
        logger.error("file_blob_missing", file_id=str(file.pk), storage_key=file.storage_key)
        raise NotFound("The stored bytes of this file are missing.", code="blob_missing") from None
    if wanted is None:
        response = StreamingHttpResponse(chunks, content_type=file.content_type)
        response["Content-Length"] = str(file.size)
    else:
        response = StreamingHttpResponse(chunks, content_type=file.content_type, status=206)
        response["Content-Range"] = f"bytes {start}-{end}/{file.size}"
        response["Content-Length"] = str(end - start + 1)
    return _common_headers(response, file, etag)

"""Reads of the files domain: what an actor may see, and what analyses may read."""

import uuid

from django.db.models import QuerySet

from core.errors import Conflict, NotFound
from core.permissions import is_staff_member
from files.blobs import blob_bytes
from files.models import ExtractedText, File, FileStatus


def files_visible_to(*, actor) -> QuerySet[File]:
    """Own files; staff and admins see everyone's (reads only)."""
    files = File.objects.select_related("owner")
    return files if is_staff_member(actor) else files.filter(owner=actor)


def files_list(
    *,
    actor,
    status: str | None = None,
    content_type: str | None = None,
    purpose: str | None = None,
    q: str | None = None,
) -> QuerySet[File]:
    """The visible files, newest first, narrowed by the given filters (``q``: part of the name)."""
    files = files_visible_to(actor=actor)
    if status:
        files = files.filter(status=status)
    if content_type:
        files = files.filter(content_type=content_type)
    if purpose is not None and purpose != "":
        files = files.filter(purpose=purpose)
    if q:
        files = files.filter(name__icontains=q)
    return files.order_by("-created_at", "-id")


def files_for_analysis(*, user, file_ids: list[uuid.UUID]) -> list[File]:
    """``user``'s files in the order given; 404 ``file_not_found`` naming a missing or foreign id,
    409 ``file_not_ready`` naming one that is not ``ready``."""
    found = {file.pk: file for file in File.objects.filter(owner=user, pk__in=file_ids)}
    missing = [str(file_id) for file_id in file_ids if file_id not in found]
    if missing:
        raise NotFound("No such file.", code="file_not_found", details={"file_ids": missing})
    not_ready = [
        found[file_id] for file_id in file_ids if found[file_id].status != FileStatus.READY
    ]
    if not_ready:
        raise Conflict(
            "A file is not ready yet.",
            code="file_not_ready",
            details={"files": [{"id": str(file.pk), "status": file.status} for file in not_ready]},
        )
    return [found[file_id] for file_id in file_ids]


def file_text(*, file: File) -> str:
    """The extracted text ('' for images and files without text)."""
    extracted = ExtractedText.objects.filter(file=file).only("text").first()
    return extracted.text if extracted else ""


def file_text_slice(*, file: File, offset: int, limit: int) -> str:
    """``limit`` characters of the extracted text from ``offset``, sliced in the database."""
    from django.db.models.functions import Substr

    row = (
        ExtractedText.objects.filter(file=file)
        .annotate(part=Substr("text", offset + 1, limit))
        .values_list("part", flat=True)
        .first()
    )
    return row or ""


def file_bytes(*, file: File) -> bytes:
    """The whole blob (images sent to vision models; bounded by the upload limit)."""
    return blob_bytes(key=file.storage_key)

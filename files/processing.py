"""Extraction, the parent's side: claim the file, run ``files.extraction`` in a child process
under caps, record the outcome. Idempotent and re-runnable: a run that finds the file already
``ready``/``failed``, or claimed by a live attempt, does nothing."""

import json
import subprocess
import sys
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audits.services import audit_event_record
from core.context import enqueue
from files.blobs import blob_local_path
from files.models import ExtractedText, File, FileStatus

logger = structlog.get_logger("parecer.files")


def _limits() -> dict[str, int]:
    return {
        "max_pages": settings.FILES_EXTRACT_MAX_PAGES,
        "max_chars": settings.FILES_TEXT_MAX_CHARS,
        "docx_max_uncompressed": settings.FILES_DOCX_MAX_UNCOMPRESSED,
        "zip_max_ratio": settings.FILES_ZIP_MAX_RATIO,
        "image_max_pixels": settings.FILES_IMAGE_MAX_PIXELS,
        "memory_bytes": settings.FILES_EXTRACT_MEMORY_BYTES,
        "cpu_seconds": settings.FILES_EXTRACT_TIMEOUT,
    }


def extraction_run(*, path: str, content_type: str) -> dict:
    """Extract in a child process; the outcome as a dict (``error_code`` set on failure)."""
    request = json.dumps({"path": path, "content_type": content_type, "limits": _limits()})
    try:
        completed = subprocess.run(  # our own interpreter and module, no shell
            [sys.executable, "-m", "files.extraction"],
            input=request.encode(),
            capture_output=True,
            timeout=settings.FILES_EXTRACT_TIMEOUT,
            cwd=settings.BASE_DIR,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {
            "error_code": "extraction_timeout",
            "error_message": f"Extraction took longer than {settings.FILES_EXTRACT_TIMEOUT} s.",
        }
    if completed.returncode != 0:
        tail = completed.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        logger.warning("extraction_crashed", returncode=completed.returncode, error=tail[0][:200])
        code = "extraction_out_of_memory" if "MemoryError" in tail[0] else "extraction_crashed"
        return {"error_code": code, "error_message": "The document could not be processed."}
    return json.loads(completed.stdout)


def _claim(file_id: str) -> File | None:
    """Move the file to ``processing`` unless it is done or a live attempt holds it."""
    stale = timezone.now() - timedelta(seconds=settings.FILES_STUCK_AFTER)
    with transaction.atomic():
        file = (
            File.objects.select_for_update(no_key=True)
            .filter(pk=file_id)
            .filter(
                Q(status=FileStatus.UPLOADED)
                | Q(status=FileStatus.PROCESSING, processing_started_at__lt=stale)
            )
            .first()
        )
        if file is None:
            return None
        if file.attempts >= settings.FILES_EXTRACT_MAX_ATTEMPTS:
            _fail(
                file,
                {
                    "error_code": "extraction_abandoned",
                    "error_message": "Extraction kept dying; gave up.",
                },
            )
            return None
        File.objects.filter(pk=file.pk).update(
            status=FileStatus.PROCESSING,
            processing_started_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
    file.refresh_from_db()
    return file


def _fail(file: File, outcome: dict) -> None:
    file.status = FileStatus.FAILED
    file.error_code = outcome["error_code"][:64]
    file.error_message = outcome.get("error_message", "")[:255]
    file.save(update_fields=["status", "error_code", "error_message", "updated_at"])
    audit_event_record(
        action="file.extraction_failed",
        entity_type="file",
        entity_id=file.pk,
        details={
            "error_code": file.error_code,
            "content_type": file.content_type,
            "attempts": file.attempts,
        },
    )


def file_extract_run(*, file_id: str) -> File | None:
    """Extract the text of one file and record ``ready`` or ``failed`` (audited)."""
    file = _claim(file_id)
    if file is None:
        return None
    try:
        with blob_local_path(key=file.storage_key) as path:
            outcome = extraction_run(path=path, content_type=file.content_type)
    except FileNotFoundError:
        outcome = {"error_code": "blob_missing", "error_message": "The stored bytes are missing."}
    with transaction.atomic():
        current = (
            File.objects.select_for_update(no_key=True)
            .filter(pk=file.pk, status=FileStatus.PROCESSING)
            .first()
        )
        if current is None:  # deleted meanwhile, or finished by another attempt
            return None
        if "error_code" in outcome:
            _fail(current, outcome)
            return current
        text = outcome["text"]
        ExtractedText.objects.update_or_create(file=current, defaults={"text": text})
        current.status = FileStatus.READY
        current.error_code = current.error_message = ""
        current.text_chars = len(text)
        current.truncated = outcome["truncated"]
        current.page_count = outcome["page_count"]
        current.width, current.height = outcome["width"], outcome["height"]
        current.save()
    return current


def files_stuck_requeue() -> int:
    """Re-enqueue extraction of files left ``uploaded``/``processing`` past the stuck timeout
    (their task was lost or its worker died). Returns how many were re-enqueued."""
    from files.tasks import file_extract

    stale = timezone.now() - timedelta(seconds=settings.FILES_STUCK_AFTER)
    stuck = list(
        File.objects.filter(
            Q(status=FileStatus.UPLOADED, updated_at__lt=stale)
            | Q(status=FileStatus.PROCESSING, processing_started_at__lt=stale)
        ).values_list("pk", flat=True)[:500]
    )
    with transaction.atomic():
        for file_id in stuck:
            enqueue(file_extract, str(file_id))
    if stuck:
        logger.warning("files_requeued", count=len(stuck))
    return len(stuck)

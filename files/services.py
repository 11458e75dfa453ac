"""Writes of the files domain: accept an upload (dedup, quota, blob, row, audit, extraction
enqueued) and delete a file (row first, blob after commit)."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Sum

from audits.services import audit_event_record
from core.context import enqueue
from core.errors import DomainError, InvalidInput
from files.blobs import blob_delete, blob_save
from files.limits import files_limit
from files.models import File
from files.naming import display_name_sanitise, storage_key_new
from files.sniffing import UnsupportedType, content_type_detect, declared_type
from files.upload_handler import HashedTemporaryUploadedFile


def _quota_check(*, owner, size: int) -> None:
    """Raise 413 when ``size`` more bytes would pass the owner's quota. Call with the owner's
    row locked: concurrent uploads then check one after the other and cannot both slip under."""
    allowed = int(files_limit("storage_quota_bytes"))
    used = File.objects.filter(owner=owner).aggregate(total=Sum("size"))["total"] or 0
    if used + size > allowed:
        raise DomainError(
            f"This upload needs {size} bytes; {allowed - used} of your {allowed} bytes are free.",
            code="storage_quota_exceeded",
            status=413,
            details={"used_bytes": used, "allowed_bytes": allowed, "file_bytes": size},
        )


def _same_bytes(*, owner, sha256: str) -> File | None:
    # At most one row (unique owner + sha256): no ORDER BY needed.
    return next(iter(File.objects.filter(owner=owner, sha256=sha256)[:1]), None)


def file_upload(
    *, owner, upload: HashedTemporaryUploadedFile, purpose: str = ""
) -> tuple[File, bool]:
    """Accept a spooled, hashed upload for ``owner``: ``(file, created)``.

    Bytes the owner already has return that file (``created`` False). The blob is written
    before the transaction (the quota lock is never held across a slow store) and removed again
    if the row is not committed.
    """
    name = display_name_sanitise(upload.name)
    if upload.size == 0:
        raise InvalidInput(
            "The file is empty.",
            code="file_empty",
            details=[{"field": "file", "in": "body", "reason": "0 bytes", "type": "empty"}],
        )
    detected = content_type_detect(
        stream=upload.file,
        size=upload.size,
        declared=declared_type(content_type=upload.content_type or "", name=name),
    )
    allowed = files_limit("upload_allowed_types")
    if detected.content_type not in allowed:
        raise UnsupportedType(
            f"{detected.content_type} ({detected.description}) is not an accepted file type.",
            detected=detected.content_type,
            description=detected.description,
            declared=upload.content_type or "",
        )
    existing = _same_bytes(owner=owner, sha256=upload.sha256)
    if existing is not None:
        return existing, False
    key = blob_save(key=storage_key_new(owner_id=owner.pk), content=upload)
    try:
        with transaction.atomic():
            get_user_model().objects.select_for_update(no_key=True).filter(pk=owner.pk).values_list(
                "pk"
            ).first()
            existing = _same_bytes(owner=owner, sha256=upload.sha256)  # a concurrent twin won
            if existing is not None:
                transaction.on_commit(lambda: blob_delete(key=key))
                return existing, False
            _quota_check(owner=owner, size=upload.size)
            file = File.objects.create(
                owner=owner,
                storage_key=key,
                name=name,
                size=upload.size,
                content_type=detected.content_type,
                sha256=upload.sha256,
                purpose=purpose,
            )
            from files.tasks import file_extract  # tasks import services: import here, not above

            enqueue(file_extract, str(file.pk))
            # Last: the audit chain's head stays locked from here until the commit.
            audit_event_record(
                action="file.uploaded",
                entity_type="file",
                entity_id=file.pk,
                details={
                    "name": name,
                    "size": file.size,
                    "content_type": file.content_type,
                    "sha256": file.sha256,
                    "purpose": purpose,
                },
            )
    except IntegrityError:
        # The unique (owner, sha256) constraint caught a twin the lock did not (another database
        # session inserted between our check and insert): it holds the bytes, ours go.
        blob_delete(key=key)
        twin = _same_bytes(owner=owner, sha256=upload.sha256)
        if twin is None:
            raise
        return twin, False
    except BaseException:
        blob_delete(key=key)
        raise
    return file, True


def file_delete(*, file: File, actor) -> None:
    """Delete the row (other apps may veto through ``pre_delete``, e.g. a file in use), then
    the blob once that commits: a rolled-back delete never loses the bytes."""
    with transaction.atomic():
        locked = File.objects.select_for_update().filter(pk=file.pk).first()
        if locked is None:
            return
        audit_event_record(
            action="file.deleted",
            entity_type="file",
            entity_id=locked.pk,
            details={
                "name": locked.name,
                "size": locked.size,
                "sha256": locked.sha256,
                "owner_id": str(locked.owner_id),
                "deleted_by": str(getattr(actor, "pk", "")),
            },
        )
        locked.delete()  # the blob goes when this commits (files.receivers)


def file_download_record(*, file: File, actor) -> None:
    """Audit a download by someone other than the owner (staff reading a user's file)."""
    if actor is None or actor.pk == file.owner_id:
        return
    with transaction.atomic():
        audit_event_record(
            action="file.downloaded",
            entity_type="file",
            entity_id=file.pk,
            details={"name": file.name, "owner_id": str(file.owner_id)},
        )

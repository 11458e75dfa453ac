"""The bytes of files, in ``STORAGES["default"]`` (local disk or an S3-compatible store).

Reads are streamed in chunks; on S3 a byte range is fetched with a ranged GET instead of
django-storages' ``S3File``, which would first copy the whole object.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from django.core.files.storage import default_storage

CHUNK_BYTES = 64 * 1024


def _s3_client_and_key(key: str):
    """(client, bucket, full key) when the default storage is django-storages' S3, else None."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - a hard dependency
        return None
    storage = default_storage._wrapped if hasattr(default_storage, "_wrapped") else default_storage
    if not isinstance(storage, S3Storage):
        return None
    full_key = storage._normalize_name(storage._clean_name(key))
    return storage.connection.meta.client, storage.bucket_name, full_key


def blob_save(*, key: str, content: BinaryIO) -> str:
    """Store ``content`` under ``key``; returns the key the storage used."""
    content.seek(0)
    return default_storage.save(key, content)


def blob_delete(*, key: str) -> None:
    """Remove the blob; a missing one is fine (deletion is retried after crashes)."""
    default_storage.delete(key)


def blob_exists(*, key: str) -> bool:
    return default_storage.exists(key)


def blob_chunks(*, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The blob's bytes ``[start, start + length)`` in chunks of at most 64 KiB."""
    s3 = _s3_client_and_key(key)
    if s3 is not None:
        client, bucket, full_key = s3
        extra = {}
        if start or length is not None:
            end = "" if length is None else str(start + length - 1)
            extra["Range"] = f"bytes={start}-{end}"
        body = client.get_object(Bucket=bucket, Key=full_key, **extra)["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()
        return
    with default_storage.open(key, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining is None or remaining > 0:
            chunk = handle.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def blob_bytes(*, key: str) -> bytes:
    return b"".join(blob_chunks(key=key))


@contextmanager
def blob_local_path(*, key: str) -> Iterator[str]:
    """A path on local disk holding the blob (the file itself on disk storage, else a copy)."""
    try:
        local_path = default_storage.path(key)
    except NotImplementedError:  # remote storage: copy to a temporary file
        local_path = None
    if local_path is not None:
        yield local_path
        return
    with tempfile.NamedTemporaryFile(prefix="parecer-extract-") as copy:
        for chunk in blob_chunks(key=key):
            copy.write(chunk)
        copy.flush()
        yield copy.name

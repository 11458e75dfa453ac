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
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name

    storage = default_storage._wrapped if hasattr(default_storage, "_wrapped") else default_storage
    if not isinstance(storage, S3Storage):
        return None
    full_key = storage._normalize_name(clean_name(key))
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


class BlobMissing(Exception):
    """The row exists but its bytes do not (restored database, lost bucket object)."""


def _file_chunks(handle, remaining: int | None) -> Iterator[bytes]:
    with handle:
        while remaining is None or remaining > 0:
            chunk = handle.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _s3_chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


def blob_chunks(*, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The blob's bytes ``[start, start + length)`` in chunks of at most 64 KiB.

    The blob is opened now, so a missing one raises ``BlobMissing`` here (before a response
    has started), and read lazily as the iterator is consumed.
    """
    s3 = _s3_client_and_key(key)
    if s3 is not None:
        from botocore.exceptions import ClientError

        client, bucket, full_key = s3
        extra = {}
        if start or length is not None:
            end = "" if length is None else str(start + length - 1)
            extra["Range"] = f"bytes={start}-{end}"
        try:
            body = client.get_object(Bucket=bucket, Key=full_key, **extra)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobMissing(key) from None
            raise
        return _s3_chunks(body)
    try:
        handle = default_storage.open(key, "rb")
    except FileNotFoundError:
        raise BlobMissing(key) from None
    handle.seek(start)
    return _file_chunks(handle, length)


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

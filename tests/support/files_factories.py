"""Rows of the files app made through the real upload service (blob, row, audit, task)."""

import hashlib

from files import services
from files.upload_handler import HashedTemporaryUploadedFile


def file_create(
    *,
    owner,
    data: bytes = b"hello\n",
    name: str = "notes.txt",
    content_type: str = "text/plain",
    purpose: str = "",
):
    """A stored file for ``owner`` as an upload would create it; returns the File."""
    spooled = HashedTemporaryUploadedFile(name, content_type, len(data), None)
    spooled.write(data)
    spooled.seek(0)
    spooled.sha256 = hashlib.sha256(data).hexdigest()
    try:
        file, _ = services.file_upload(owner=owner, upload=spooled, purpose=purpose)
    finally:
        spooled.close()
    return file

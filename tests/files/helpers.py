"""Uploading through the real middleware, and looking at what the storage holds."""

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from files.models import File

UPLOAD_URL = "/api/v1/files"


def upload(
    client,
    headers: dict,
    data: bytes,
    *,
    name: str = "notes.txt",
    content_type: str = "text/plain",
    purpose: str | None = None,
):
    """POST /files with one multipart file part (and ``purpose`` when given)."""
    form = {"file": SimpleUploadedFile(name, data, content_type=content_type)}
    if purpose is not None:
        form["purpose"] = purpose
    return client.post(UPLOAD_URL, form, **headers)


def raw_post(client, headers: dict, body: bytes, content_type: str):
    return client.generic("POST", UPLOAD_URL, body, content_type=content_type, **headers)


def multipart(
    parts: list[tuple[str, str | None, str, bytes]], boundary: str = "XyZBoundary42"
) -> tuple[bytes, str]:
    """A multipart body from ``(field, filename or None, content type, bytes)`` parts."""
    chunks = []
    for field, filename, content_type, data in parts:
        disposition = f'form-data; name="{field}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def stored_keys() -> list[str]:
    """Every blob under files/ in the default storage."""
    keys: list[str] = []
    pending = ["files"]
    while pending:
        folder = pending.pop()
        try:
            folders, names = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        keys += [f"{folder}/{name}" for name in names]
        pending += [f"{folder}/{sub}" for sub in folders]
    return sorted(keys)


def assert_nothing_stored() -> None:
    assert stored_keys() == []
    assert File.objects.count() == 0

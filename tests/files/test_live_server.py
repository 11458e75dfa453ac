"""Through a real server: a client that disconnects mid-upload leaves nothing behind, an upload
past the limit is cut while it is still being sent, 1,000 simultaneous uploads of the same bytes
converge on one file and one blob, and the quota holds under concurrent uploads."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from files.models import File
from tests.files.helpers import stored_keys
from tests.files.live import gunicorn_server, multipart_upload
from tests.support.factories import UserFactory


def _token(user) -> str:
    from accounts.tokens import access_token_issue

    return access_token_issue(user_id=user.pk)[0]


def _headers(host: str, port: int, token: str, length: int, boundary: str) -> bytes:
    return (
        f"POST /api/v1/files HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _part(boundary: str, data: bytes) -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode()


def _wait_until_empty(folder, seconds: float = 10) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in folder.rglob("*") if p.is_file()]
        if not left:
            return []
        time.sleep(0.1)
    return left


@pytest.mark.django_db(transaction=True)
def test_client_disconnecting_mid_upload_leaves_no_blob_no_row_no_temp_file(
    live_server, settings, tmp_path
):
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    user = UserFactory()
    boundary = "CutBoundary"
    body = _part(boundary, b"partial words " * 200_000)  # ~2.8 MB declared
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port)) as sock:
        sock.sendall(_headers(host, port, _token(user), len(body), boundary))
        sock.sendall(body[: len(body) // 2])
        deadline = time.monotonic() + 10
        while not list(spool.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(spool.iterdir()), "the upload was not spooling to FILE_UPLOAD_TEMP_DIR"
    # The socket is closed with half the body sent: the server sees the body end early.
    assert _wait_until_empty(spool) == []
    time.sleep(0.5)
    assert File.objects.count() == 0
    assert stored_keys() == []


@pytest.mark.django_db(transaction=True)
def test_huge_declared_upload_is_answered_without_reading_the_body(live_server, settings):
    """Content-Length says 10 GiB; the client sends 1 KiB and waits. The 413 arrives at once:
    the handler refuses from the declared length, before reading the body. (A body declared
    within limit + multipart overhead is counted as it streams: see test_bad_input.)"""
    user = UserFactory()
    boundary = "BigBoundary"
    host, port = live_server.thread.host, live_server.thread.port
    head = _part(boundary, b"")[: -len(f"\r\n--{boundary}--\r\n")]
    started = time.monotonic()
    with socket.create_connection((host, port)) as sock:
        sock.settimeout(10)
        sock.sendall(_headers(host, port, _token(user), 10 * 1024**3, boundary))
        sock.sendall(head + b"x" * 1024)
        answer = b""
        while b"}}" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code": "file_too_large"' in answer
    assert f'"max_bytes": {settings.UPLOAD_MAX_BYTES}'.encode() in answer
    assert time.monotonic() - started < 5
    assert File.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_1000_simultaneous_uploads_of_the_same_bytes(settings):
    """One row, one blob, one 201 and 999 200s all naming it (gunicorn, 2 workers x 8 threads)."""
    user = UserFactory()
    token = _token(user)
    data = b"the very same bytes, a thousand times\n" * 100
    with (
        gunicorn_server(media_root=settings.MEDIA_ROOT) as (host, port),
        ThreadPoolExecutor(64) as pool,
    ):
        results = list(pool.map(lambda _: multipart_upload(host, port, token, data), range(1000)))
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1, {s: statuses.count(s) for s in set(statuses)}
    assert statuses.count(200) == 999
    ids = {body["id"] for _, body in results}
    assert len(ids) == 1
    file = File.objects.get()
    assert str(file.pk) in ids and file.size == len(data)
    assert stored_keys() == [file.storage_key]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_quota_holds_under_concurrent_uploads(settings):
    """Quota 10 KiB, 24 different 1 KiB files at once: exactly 10 land, the rest are 413."""
    user = UserFactory()
    token = _token(user)
    env = {"STORAGE_QUOTA_BYTES": str(10 * 1024)}
    with (
        gunicorn_server(media_root=settings.MEDIA_ROOT, env=env) as (host, port),
        ThreadPoolExecutor(24) as pool,
    ):
        results = list(
            pool.map(
                lambda i: multipart_upload(
                    host, port, token, (f"{i:04d}" * 256).encode(), name=f"f{i}.txt"
                ),
                range(24),
            )
        )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [413] * 14, statuses
    refused = [body["error"] for status, body in results if status == 413]
    assert {error["code"] for error in refused} == {"storage_quota_exceeded"}
    assert all(error["details"]["allowed_bytes"] == 10 * 1024 for error in refused)
    assert all(error["details"]["used_bytes"] == 10 * 1024 for error in refused)
    assert File.objects.filter(owner=user).count() == 10
    assert sum(File.objects.values_list("size", flat=True)) == 10 * 1024
    assert len(stored_keys()) == 10

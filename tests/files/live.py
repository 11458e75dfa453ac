"""A real gunicorn (production worker class, 2 workers) on 127.0.0.1 against the test database,
for what only a real server shows: concurrency across processes and clients that go away."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def gunicorn_server(*, media_root: Path, env: dict[str, str] | None = None, threads: int = 8):
    """Yield ``(host, port)`` of a gunicorn serving the test database; stopped afterwards."""
    port = free_port()
    server_env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        # The test settings pin their own temporary MEDIA_ROOT: name the directory explicitly.
        "STORAGE_URL": f"file://{media_root}",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": str(threads),
        "DB_POOL_MAX_SIZE": str(threads + 2),
        "LOG_LEVEL": "WARNING",
        # One user sends a thousand uploads at once: what is tested is convergence, not the
        # per-user write throttle (120/min by default).
        "THROTTLE_WRITES": "1000000/min",
        **(env or {}),
    }
    if "default" in settings.STORAGES and settings.STORAGES["default"]["BACKEND"].endswith(
        "S3Storage"
    ):
        options = settings.STORAGES["default"]["OPTIONS"]
        server_env["STORAGE_URL"] = (
            f"s3://{options['access_key']}:{options['secret_key']}@{options['bucket_name']}/{options['location']}"
            f"?endpoint_url={options['endpoint_url']}&region={options['region_name']}"
        )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"],
        cwd=REPO,
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/health/live")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()[-2000:])
        else:
            raise RuntimeError("gunicorn did not start")
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def multipart_upload(
    host: str, port: int, token: str, data: bytes, name: str = "same.txt"
) -> tuple[int, dict]:
    boundary = "LiveBoundary7e3"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request(
        "POST",
        "/api/v1/files",
        body=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, payload

"""The production server for tests: ``config.settings.prod`` under gunicorn on 127.0.0.1.

It is booted exactly like ``make bench`` boots it (``scripts/bench/env.sh``), with throwaway
secrets in a temporary state directory, a collectstatic into a temporary STATIC_ROOT, and the
database and cache the caller names. Ports come from ``TEST_SERVER_PORTS`` (``8160-8169``).
"""

import os
import random
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class ProdServer:
    base_url: str
    env: dict[str, str]
    log: Path

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a management command under the server's settings and environment."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"manage.py {args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}"
            )
        return done


def free_port() -> int:
    """A port of the range nobody listens on now, picked at random: two suites starting servers
    at once rarely pick the same one, and ``production_server`` retries when they do."""
    low, high = (int(part) for part in os.environ.get("TEST_SERVER_PORTS", "8160-8169").split("-"))
    for port in random.sample(range(low, high + 1), high - low + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high} (TEST_SERVER_PORTS)")


def _bench_environment(state_dir: Path, overrides: dict[str, str]) -> dict[str, str]:
    """The environment scripts/bench/env.sh exports, with ``overrides`` applied on top."""
    (state_dir / "env").write_text(
        "".join(
            f"{name}={secrets.token_urlsafe(64)}\n"
            for name in ("SECRET_KEY", "JWT_SIGNING_KEY", "AUDIT_HMAC_KEY")
        )
    )
    script = f"BENCH_STATE_DIR={shlex.quote(str(state_dir))}; . scripts/bench/env.sh; env -0"
    dumped = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, check=True, timeout=30
    ).stdout
    env = dict(item.split("=", 1) for item in dumped.decode().split("\0") if "=" in item)
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def _wait_until_live(base_url: str, process: subprocess.Popen, log: Path) -> bool:
    """True once this gunicorn listens and answers; False when its port was taken meanwhile."""
    port = base_url.rsplit(":", 1)[1]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Connection in use" in text:
            return False
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{text[-3000:]}")
        if f"Listening at: http://127.0.0.1:{port}" in text:
            try:
                with urllib.request.urlopen(f"{base_url}/health/live", timeout=2):
                    return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 90 s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def production_server(
    tmp_dir: Path, *, database_url: str, redis_url: str = "", migrate: bool = False
) -> Iterator[ProdServer]:
    """collectstatic (and optionally migrate), then gunicorn; stopped on exit."""
    env = _bench_environment(
        tmp_dir,
        {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "STATIC_ROOT": str(tmp_dir / "static"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "WEB_CONCURRENCY": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_dir / "metrics"),
            "THROTTLE_LOGIN": os.environ.get("THROTTLE_LOGIN", "1000/min"),
        },
    )
    (tmp_dir / "metrics").mkdir(exist_ok=True)  # metrics modules open their files at import
    setup = ProdServer(base_url="", env=env, log=tmp_dir / "gunicorn.log")
    setup.manage("collectstatic", "--noinput", "-v0")
    if migrate:
        setup.manage("migrate", "--noinput", "-v0", timeout=300)
    for _attempt in range(5):
        port = free_port()
        # The master's own /health/live listener (config/liveness.py) needs a port too.
        liveness = next(p for p in iter(free_port, None) if p != port)
        server = ProdServer(
            base_url=f"http://127.0.0.1:{port}",
            env={**env, "BIND": f"127.0.0.1:{port}", "LIVENESS_PORT": str(liveness)},
            log=tmp_dir / "gunicorn.log",
        )
        with server.log.open("w") as log:
            process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "config/gunicorn.py"],
                cwd=ROOT,
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            if not _wait_until_live(server.base_url, process, server.log):
                continue  # another server took the port first: try another
            yield server
            return
        finally:
            _stop(process)
    raise RuntimeError("no free port stayed free for gunicorn (TEST_SERVER_PORTS)")

"""A bounded load generator: N client threads on keep-alive connections, each request recorded
(start, seconds, status, error code), plus probes of liveness and readiness."""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from services import CONTROL_PORT, LIVENESS_PORT, WEB_PORT

CLIENT_TIMEOUT = 30.0
EVENT_WRITE = "/api/v1/audits"  # the path of the writers that record events


@dataclass
class Sample:
    kind: str
    started: float
    seconds: float
    status: int
    code: str | None  # the envelope's error code; "not_enveloped" when an error had none
    ref: str | None = None  # what a write created (an API key's name); a cached read's path


@dataclass
class Load:
    token: str
    password: str  # API keys are created with the owner's password (recent authentication)
    clients: int = 32
    writers: int = 8
    # A read served from Redis (its document and its caller's user in one MGET), e.g. a prompt
    # resolve: every other reader asks for it instead of /auth/me; its samples carry it as ref.
    cached_read: str | None = None
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> "Load":
        for index in range(self.clients):
            kind = "write" if index < self.writers else "read"
            if kind == "write":  # half the writers record events: the audits' group commit
                path = EVENT_WRITE if index % 2 else None
            else:
                path = self.cached_read if index % 2 else None
            self._spawn(self._client, kind, WEB_PORT, 0.0, path)
        self._prober = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).parent / "probe.py"),
                "0.05",
                f"live:{LIVENESS_PORT}",
                f"control:{CONTROL_PORT}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        if os.geteuid() == 0:  # like the master it probes (services.Gunicorn.prioritise)
            os.setpriority(os.PRIO_PROCESS, self._prober.pid, -20)
        self._spawn(self._client, "ready", WEB_PORT, 0.25)
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)
        self._prober.terminate()
        for line in self._prober.communicate()[0].splitlines():
            label, started, seconds, status = line.split()
            self.samples.append(Sample(label, float(started), float(seconds), int(status), None))
        return self.samples

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _request(
        self, kind: str, path: str | None = None
    ) -> tuple[str, str, bytes | None, dict, str | None]:
        if kind == "write" and path == EVENT_WRITE:
            # An event recorded outside any transaction: it joins its process's group commit.
            name = f"load-{uuid.uuid4().hex[:12]}"
            body = json.dumps({"action": "load.recorded", "entity_type": "load", "entity_id": name})
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
            return "POST", EVENT_WRITE, body.encode(), headers, name
        if kind == "write":
            # An API key: a row and an audit event in one transaction, and no e-mail task piling
            # up behind the task scenarios (registrations would enqueue one e-mail each).
            name = f"load-{uuid.uuid4().hex[:12]}"
            body = json.dumps({"name": name, "current_password": self.password})
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
            return "POST", "/api/v1/auth/api-keys", body.encode(), headers, name
        if kind == "read":
            headers = {"Authorization": f"Bearer {self.token}"}
            return "GET", path or "/api/v1/auth/me", None, headers, path
        if kind == "live":
            return "GET", "/health/live", None, {}, None
        return "GET", "/health", None, {}, None

    def _client(self, kind: str, port: int, pause: float, read_path: str | None = None) -> None:
        connection = None
        while not self._stop.is_set():
            method, path, body, headers, ref = self._request(kind, read_path)
            started = time.monotonic()
            status, code = 0, None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(
                        "127.0.0.1", port, timeout=CLIENT_TIMEOUT
                    )
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                status = response.status
                if status >= 400 and kind in ("read", "write"):
                    try:
                        code = json.loads(payload)["error"]["code"]
                    except (ValueError, KeyError, TypeError):
                        code = "not_enveloped"
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as exc:
                code = f"client:{type(exc).__name__}"
                if connection is not None:
                    connection.close()
                connection = None
            self.samples.append(
                Sample(kind, started, time.monotonic() - started, status, code, ref)
            )
            if pause:
                time.sleep(pause)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(samples: list[Sample], kind: str, *, since: float = 0.0, until: float = 1e18) -> dict:
    chosen = [s for s in samples if s.kind == kind and since <= s.started < until]
    durations = [s.seconds for s in chosen]
    return {
        "n": len(chosen),
        "ok": sum(1 for s in chosen if 200 <= s.status < 300),
        "p50_ms": round(percentile(durations, 0.50) * 1000),
        "p99_ms": round(percentile(durations, 0.99) * 1000),
        "max_ms": round(max(durations, default=0) * 1000),
        "codes": sorted({s.code or str(s.status) for s in chosen}),
    }

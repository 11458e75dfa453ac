"""A liveness answer that busy request threads cannot starve.

gunicorn's gthread worker hands every connection to its request thread pool: with all threads
waiting (on a lock, an outage), ``/health/live`` on the main port queues behind them (measured
9-12 s). So the gunicorn *master* serves ``GET /health/live`` on ``LIVENESS_PORT`` from a small
thread of its own. The master does no request work, so no request load delays it (a listener
inside each worker was measured first: p99 ~200 ms under an outage's load, behind the GIL).

What it promises: the master runs, has workers, and each worker's main loop (which accepts
connections; gunicorn's own heartbeat) ticked within ``max_loop_age`` seconds. It says nothing
about the database or Redis: that is readiness (``/health``), and a restart fixes neither.
"""

import json
import os
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


def liveness_listener_start(
    *, host: str, port: int, loop_ages: Callable[[], list[float]], max_loop_age: float
) -> ThreadingHTTPServer:
    """Serve ``GET /health/live`` on ``host:port`` from a daemon thread; returns the server."""

    class LivenessHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/health/live":
                self._answer(404, {"status": "not_found"})
                return
            ages = loop_ages()
            healthy = bool(ages) and max(ages) <= max_loop_age
            body = {"status": "ok" if healthy else "fail", "pid": os.getpid(), "loop_ages_s": ages}
            self._answer(200 if healthy else 503, body)

        def _answer(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass  # probes every few seconds would drown the logs

    server = _Server((host, port), LivenessHandler)
    thread = threading.Thread(target=server.serve_forever, name="liveness", daemon=True)
    thread.start()
    return server


def gunicorn_loop_ages(arbiter) -> Callable[[], list[float]]:
    """Seconds since each worker's main loop last ticked, read by the master from the same
    heartbeat files gunicorn's own ``timeout`` watches (a worker notifies about every second)."""

    def ages() -> list[float]:
        now = time.monotonic()
        return [
            round(max(0.0, now - worker.tmp.last_update()), 3)
            for worker in list(arbiter.WORKERS.values())
        ]

    return ages

"""A liveness answer that busy request threads cannot starve.

gunicorn's gthread worker hands every connection to its request thread pool: with all threads
waiting (on a lock, an outage), ``/health/live`` on the main port queues behind them (measured
9-12 s). Each worker therefore also serves ``GET /health/live`` from its own small thread on
``LIVENESS_PORT``; the workers share that port (``SO_REUSEPORT``), so the kernel picks one.

What it promises: this worker process runs and its gunicorn main loop (which accepts
connections) ticked within ``max_loop_age`` seconds. It says nothing about the database or
Redis: that is readiness (``/health``), and restarting a process does not fix them.
"""

import json
import os
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _ReusePortServer(ThreadingHTTPServer):
    allow_reuse_address = True
    allow_reuse_port = True  # every worker binds the same port
    daemon_threads = True


def liveness_listener_start(
    *, host: str, port: int, loop_age: Callable[[], float], max_loop_age: float
) -> ThreadingHTTPServer:
    """Serve ``GET /health/live`` on ``host:port`` from a daemon thread; returns the server."""

    class LivenessHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/health/live":
                self._answer(404, {"status": "not_found"})
                return
            age = loop_age()
            healthy = age <= max_loop_age
            body = {"status": "ok" if healthy else "fail", "pid": os.getpid(), "loop_age_s": age}
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

    server = _ReusePortServer((host, port), LivenessHandler)
    thread = threading.Thread(target=server.serve_forever, name="liveness", daemon=True)
    thread.start()
    return server


def gunicorn_loop_age(worker) -> Callable[[], float]:
    """Seconds since the gunicorn worker's main loop last notified the arbiter (about every 1 s)."""
    return lambda: round(max(0.0, time.monotonic() - worker.tmp.last_update()), 3)

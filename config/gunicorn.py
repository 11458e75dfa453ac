"""gunicorn settings for production; every value can be overridden by environment variables.

Default worker class comes from the measurements in docs/performance.md.
"""

import os
import shutil
import tempfile

os.environ.setdefault("PROCESS_ROLE", "web")  # the database time limits of a web server

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
wsgi_app = os.environ.get("GUNICORN_APP", "config.wsgi:application")
# With gthread this is NOT a request time limit: the worker's main loop notifies the arbiter
# every second whatever its threads do, so only a stuck main loop is killed. Requests are bounded
# by the database's statement/lock timeouts, the pool timeout and each client's own timeout.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
backlog = 2048
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = 100
accesslog = None  # the app writes one structured access line per request
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus multi-process mode: every worker writes its samples under one directory, so /metrics
# reports the whole server, not whichever worker answered.
_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(tempfile.gettempdir(), f"parecer-metrics-{os.getpid()}"),
)


# A liveness answer no busy request thread can delay (config/liveness.py); 0 turns it off.
liveness_port = int(os.environ.get("LIVENESS_PORT", "8001"))


def when_ready(server) -> None:
    # Imported now rather than first in child_exit: an import holds the master's GIL for
    # ~100 ms, which the liveness thread would wait behind right when a worker dies.
    from prometheus_client import multiprocess  # noqa: F401

    if not liveness_port:
        return
    from config.liveness import gunicorn_loop_ages, liveness_listener_start

    server.liveness_listener = liveness_listener_start(
        host=bind.rsplit(":", 1)[0].strip("[]"),
        port=liveness_port,
        loop_ages=gunicorn_loop_ages(server),
        # gunicorn itself kills a worker whose loop is silent `timeout` s; report it before.
        max_loop_age=max(timeout / 2, 5),
    )


def post_fork(server, worker) -> None:
    # The master's liveness socket is no business of a worker's.
    listener = getattr(server, "liveness_listener", None)
    if listener is not None:
        listener.socket.close()


def on_starting(server) -> None:
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

"""The fault suite's own services: a PostgreSQL cluster, a Redis, gunicorn, task and analysis
workers, created in a temporary directory on ports 55432 / 56379 / 8170-8173 (the LLM stand-in:
a free port, llm_standin.py) and removed at the end. The machine's shared PostgreSQL (5432) and
Redis (6379) are never touched."""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PG_PORT, REDIS_PORT = 55432, 56379
WEB_PORT, LIVENESS_PORT, SMTP_PORT, CONTROL_PORT = 8170, 8171, 8172, 8173
IS_ROOT = os.geteuid() == 0
# One database name per run: a process left over from an earlier run cannot join this one.
DB_NAME = f"parecer_faults_{os.getpid()}"


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb/postgres refuse to run as root: run them as the postgres OS user.
    return ["runuser", "-u", "postgres", "--", *argv] if IS_ROOT else argv


class Postgres:
    def __init__(self, root: Path) -> None:
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.data, self.sockets = root / "pgdata", root / "pgsock"
        self.log = root / "postgres.log"
        for path in (self.data, self.sockets):
            path.mkdir(mode=0o700)
        if IS_ROOT:
            shutil.chown(root, "postgres")
            for path in (self.data, self.sockets):
                shutil.chown(path, "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = (
            f"-p {PG_PORT} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=40 -c superuser_reserved_connections=0"
        )
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [
                "psql",
                "-X",
                "-q",
                "-At",
                "-h",
                "127.0.0.1",
                "-p",
                str(PG_PORT),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()


class Redis:
    def __init__(self, root: Path) -> None:
        self.root, self.process = root, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(
            lambda: (
                subprocess.run(
                    ["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            ),
            what="redis",
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def renice(pid: int, priority: int) -> None:
    """Every thread of ``pid`` (Linux sets a nice value per thread, and a thread started before
    the change keeps its own: the master's liveness thread would stay where the suite ran)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.setpriority(os.PRIO_PROCESS, int(task.name), priority)


def wait_for(ready, *, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up in {timeout} s")


def app_environment(root: Path, **extra: str) -> dict[str, str]:
    """Production settings pointed at the suite's own services; throwaway secrets."""
    import secrets

    keys = root / "keys"
    if not keys.exists():
        keys.write_text("\n".join(secrets.token_urlsafe(64) for _ in range(4)))
    # The metrics token: /health's details (the LLM's status among them) are for operators.
    secret, jwt_key, audit_key, metrics_token = keys.read_text().split("\n")
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB_NAME}",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "SECRET_KEY": secret,
        "JWT_SIGNING_KEY": jwt_key,
        "AUDIT_HMAC_KEY": audit_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
        "THROTTLE_REGISTER": "100000/min",
        "THROTTLE_LOGIN": "100000/min",
        "THROTTLE_PASSWORD_RESET": "100000/min",
        "THROTTLE_WRITES": "1000000/min",
        "API_KEYS_MAX_ACTIVE": "1000000",
        "LOGIN_LOCKOUT_ATTEMPTS": "100000",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
        "ARGON2_PARALLELISM": "1",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "STATIC_ROOT": str(
            root / "static"
        ),  # collected by the suite: hashed names, as in production
        "BIND": f"127.0.0.1:{WEB_PORT}",
        "LIVENESS_PORT": str(LIVENESS_PORT),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "TASK_LEASE_SECONDS": "6",
        "TASK_REAPER_INTERVAL": "2",
        # Analyses (scenarios_analyses.py): OPENAI_BASE_URL comes from the suite (a free port).
        # A call's hard deadline 8 s, the lease 12 s (it must outlast the call), reaped every 2 s;
        # retries 0.5 s doubling up to 3 s: an analysis tries again every ~1.5 s through an
        # outage (the defaults, 2 s doubling to 120 s, would outlast the scenario).
        "OPENAI_API_KEY": "faults-not-a-key",
        "OPENAI_TIMEOUT": "8",
        "OPENAI_CONNECT_TIMEOUT": "2",
        "ANALYSIS_LEASE_SECONDS": "12",
        "ANALYSIS_REAPER_INTERVAL": "2",
        "ANALYSIS_RETRY_BASE_SECONDS": "0.5",
        "ANALYSIS_RETRY_CAP_SECONDS": "3",
        "HEALTH_LLM_PROBE_TTL": "2",
        "METRICS_TOKEN": metrics_token,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        check=check,
        capture_output=True,
        text=True,
    )


class Gunicorn:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.process = env, log, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.py"],
            cwd=REPO,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: (
                urllib.request.urlopen(f"http://127.0.0.1:{WEB_PORT}/health", timeout=2).status
                == 200
            ),
            what="gunicorn",
        )

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def prioritise(self) -> None:
        """The master answers liveness: on a shared, oversubscribed CI machine (2 CPUs, load ~16
        from other jobs) run it ahead of the neighbours, so the figure measures this code."""
        if IS_ROOT:
            renice(self.process.pid, -20)

    def workers_at_normal_priority(self) -> None:
        """A worker forked by the prioritised master inherits its priority: give it back."""
        if IS_ROOT:
            for pid in self.worker_pids():
                renice(pid, 0)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


class ControlServer:
    """A static file at /health/live served by a bare process: the machine's own latency, to
    tell a slow liveness answer from a saturated machine (CI shares 2 CPUs with other jobs)."""

    def __init__(self, root: Path) -> None:
        (root / "control" / "health").mkdir(parents=True)
        (root / "control" / "health" / "live").write_text("ok")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(CONTROL_PORT),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(root / "control"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if IS_ROOT:
            os.setpriority(os.PRIO_PROCESS, self.process.pid, -20)  # as the gunicorn master

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class TaskWorker:
    """``manage.py task_worker`` on every queue, one task at a time."""

    started: list["TaskWorker"] = []  # every worker of the run, so the end stops them all
    command = ("task_worker", "--queue-name", "*", "--interval", "0.2", "--no-startup-delay")

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        TaskWorker.started.append(self)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", *self.command],
            cwd=REPO,
            env=env,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            self.process.wait(timeout=20)


class AnalysisWorker(TaskWorker):
    """``manage.py analysis_worker``: the same worker on every queue, many analyses at once (16
    threads here, enough for the suite's bursts; 32 by default)."""

    command = ("analysis_worker", "--threads", "16", "--no-startup-delay")


def workspace() -> Path:
    return Path(tempfile.mkdtemp(prefix="parecer-faults-"))

"""Redis stopped and frozen (API and admin), and a web worker killed."""

import http.client
import os
import signal
import time
import urllib.parse

from analyses_client import PROMPT, prompt_ensure
from checks import REDIS_OUTAGE_SECONDS, api_checks, live_check
from load import Load, summary
from services import WEB_PORT, Redis


class AdminBrowser:
    """Just enough of a browser for the admin: cookies by hand (production marks them Secure,
    which urllib's jar would not send over the suite's plain http) and the proxy's https header."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://127.0.0.1:{WEB_PORT}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=10)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        page = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        connection.close()
        kind = response.getheader("Content-Type", "")
        return response.status, kind, page, time.monotonic() - started


def admin_login(suite) -> AdminBrowser:
    browser = AdminBrowser()
    browser.request("GET", "/admin/login/")
    status, _, page, _ = browser.request(
        "POST",
        "/admin/login/",
        {
            "username": suite.admin_email,
            "password": suite.admin_password,
            "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
            "next": "/admin/",
        },
    )
    assert status == 302, (status, page[:500])
    status, _, page, _ = browser.request("GET", "/admin/")
    assert status == 200 and "Dashboard" in page, (status, page[:300])
    return browser


def redis_outages(suite) -> tuple[dict, list]:
    browser = admin_login(suite)
    prompt_ensure(suite)
    cached_read = f"/api/v1/prompts/{PROMPT}"
    load = Load(token=suite.token, password=suite.admin_password, cached_read=cached_read).start()
    time.sleep(2)
    frozen = time.monotonic()
    suite.redis.freeze()
    time.sleep(1)
    admin_frozen = browser.request("GET", "/admin/")
    time.sleep(REDIS_OUTAGE_SECONDS - 1)
    suite.redis.thaw()
    thawed = time.monotonic()
    time.sleep(2)
    admin_after_thaw = browser.request("GET", "/admin/")
    killed = time.monotonic()
    suite.redis.stop()
    time.sleep(REDIS_OUTAGE_SECONDS)
    suite.redis = Redis(suite.root)
    suite.redis.start()
    restarted = time.monotonic()
    time.sleep(4)
    samples = load.stop()
    suite.writes += [s for s in samples if s.kind == "write"]
    late = [
        s.started - restarted
        for s in samples
        if s.kind in ("read", "write") and s.started >= restarted and s.status >= 500
    ]
    late += [
        s.started - thawed
        for s in samples
        if s.kind in ("read", "write") and thawed <= s.started < killed and s.status >= 500
    ]
    figures = {
        "outage_s": REDIS_OUTAGE_SECONDS,
        "write_frozen": summary(samples, "write", since=frozen, until=thawed),
        "read_frozen": summary(samples, "read", since=frozen, until=thawed),
        "write_stopped": summary(samples, "write", since=killed, until=restarted),
        "admin_frozen": {
            "status": admin_frozen[0],
            "type": admin_frozen[1],
            "ms": round(admin_frozen[3] * 1000),
        },
        "admin_after_thaw": admin_after_thaw[0],
        "recovery_s": round(max(late, default=0.0), 2),
        "cached_reads": _statuses([s for s in samples if s.ref == cached_read]),
        "live": summary(samples, "live"),
        "control": summary(samples, "control"),
    }
    checks = [
        *api_checks(samples, "redis"),
        (
            "redis frozen: admin answers an HTML 503 within 2 s",
            admin_frozen[0] == 503
            and admin_frozen[1].startswith("text/html")
            and admin_frozen[3] < 2,
            figures["admin_frozen"],
        ),
        (
            "redis thawed: the admin session is still signed in",
            admin_after_thaw[0] == 200 and "Dashboard" in admin_after_thaw[2],
            admin_after_thaw[0],
        ),
        # Before its process's breaker opens (and at each probe), a request may wait the socket
        # timeout (0.5 s) on a few cache calls; API-key writes also check a password (Argon2) on
        # a CPU shared with the whole load: budget 3 s.
        (
            "redis: no response slower than 3 s",
            max(figures[k]["max_ms"] for k in ("write_frozen", "read_frozen", "write_stopped"))
            < 3000,
            [figures[k]["max_ms"] for k in ("write_frozen", "read_frozen", "write_stopped")],
        ),
        # The caller and the document of a cached read come from Redis; without it, both from
        # PostgreSQL: the read still answers, frozen or stopped.
        (
            "redis: a cached read (prompt resolve) answers 200 from PostgreSQL throughout",
            set(figures["cached_reads"]) == {200},
            figures["cached_reads"],
        ),
        # The breaker probes at least every 2 s.
        ("redis: recovered within 3 s", figures["recovery_s"] < 3, figures["recovery_s"]),
        live_check(samples, "redis"),
    ]
    return figures, checks


def web_worker_killed(suite) -> tuple[dict, list]:
    load = Load(token=suite.token, password=suite.admin_password).start()
    time.sleep(2)
    before = suite.gunicorn.worker_pids()
    os.kill(before[0], signal.SIGKILL)
    killed = time.monotonic()
    replaced_after = None
    while time.monotonic() - killed < 15:
        pids = suite.gunicorn.worker_pids()
        if len(pids) == len(before) and before[0] not in pids:
            replaced_after = time.monotonic() - killed
            suite.gunicorn.workers_at_normal_priority()
            break
        time.sleep(0.05)
    time.sleep(8)  # enough probes after the kill that p99 is not just the worst one
    samples = load.stop()
    suite.writes += [s for s in samples if s.kind == "write"]
    api = [s for s in samples if s.kind in ("read", "write") and s.started >= killed - 1]
    resets = [s for s in api if s.code and s.code.startswith("client:")]
    late_resets = [s for s in resets if s.started > killed + 1]
    figures = {
        "replaced_after_s": replaced_after and round(replaced_after, 2),
        "client_resets": len(resets),
        "late_resets": len(late_resets),
        "read": summary(samples, "read", since=killed),
        "live": summary(samples, "live"),
        "control": summary(samples, "control"),
    }
    checks = [
        (
            "web worker kill: gunicorn replaced it within 5 s",
            replaced_after is not None and replaced_after < 5,
            figures["replaced_after_s"],
        ),
        # Connections the killed worker held (in flight or kept alive) fail once each; a client
        # reconnecting is served by the other worker, then by the replacement.
        (
            "web worker kill: only connections open on it failed, at most one per client",
            len(resets) <= 32 and not late_resets,
            {"resets": len(resets), "late": len(late_resets)},
        ),
        ("web worker kill: no 500", not [s for s in api if s.status == 500], "ok"),
        live_check(samples, "web worker kill"),
    ]
    return figures, checks


def _statuses(samples) -> dict[int, int]:
    """How many samples ended with each status."""
    counts: dict[int, int] = {}
    for sample in samples:
        counts[sample.status] = counts.get(sample.status, 0) + 1
    return counts

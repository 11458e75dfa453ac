"""Outages give a fast 503 naming what failed, never a hang (real settings in a subprocess)."""

import json

from tests.foundation.runner import run_manage, run_python

CLOSED_POSTGRES = "postgres://postgres@127.0.0.1:1/nowhere"
CLOSED_REDIS = "redis://127.0.0.1:1/0"

REQUESTS = """
    import json, time, django
    django.setup()
    from django.test import Client
    client = Client()
    out = {}
    for name, call in [
        # The details are for operators: the metrics token of config/settings/test.py.
        ("health", lambda: client.get("/health", HTTP_AUTHORIZATION="Bearer test-metrics-token")),
        ("login", lambda: client.post("/api/v1/auth/login", {"email": "a@b.c", "password": "x"},
                                      content_type="application/json")),
    ]:
        started = time.perf_counter()
        response = call()
        out[name] = {"status": response.status_code, "body": json.loads(response.content),
                     "retry_after": response.get("Retry-After"),
                     "seconds": time.perf_counter() - started}
    print("RESULT" + json.dumps(out))
"""


def _result(completed) -> dict:
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT")]
    assert lines, completed.stdout + completed.stderr
    return json.loads(lines[-1][len("RESULT") :])


def test_database_outage_is_a_fast_503(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": CLOSED_POSTGRES,
        "DB_POOL_TIMEOUT": "1",
        "DB_CONNECT_TIMEOUT": "1",
    }

    result = _result(run_python(REQUESTS, env=env))

    health = result["health"]
    assert health["status"] == 503
    assert health["body"]["failing"] == ["database"]
    assert health["body"]["checks"]["database"]["status"] == "fail"
    assert health["body"]["checks"]["cache"]["status"] == "ok"
    assert health["retry_after"]
    assert health["seconds"] < 5
    login = result["login"]
    assert login["status"] == 503
    assert login["body"]["error"]["code"] == "database_unavailable"
    assert login["retry_after"]
    assert login["seconds"] < 5


def test_redis_outage_is_a_fast_503_for_health_and_the_lockout(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": CLOSED_REDIS,
    }
    migrated = run_manage("migrate", "--noinput", "-v0", env=env)
    assert migrated.returncode == 0, migrated.stderr

    result = _result(run_python(REQUESTS, env=env))

    health = result["health"]
    assert health["status"] == 503
    assert health["body"]["failing"] == ["cache"]
    assert health["body"]["checks"]["database"]["status"] == "ok"
    assert health["seconds"] < 5
    # The login lockout is a security control: without its store, sign-in fails closed.
    login = result["login"]
    assert login["status"] == 503
    assert login["body"]["error"]["code"] == "cache_unavailable"
    assert login["seconds"] < 5

"""One throttle instance serves every thread of a gthread worker (and the write throttle every
operation): each request must count into its own caller's key, however the threads interleave."""

import threading
from types import SimpleNamespace

from django.core.cache import cache
from django.test import RequestFactory

from core.throttles import WriteRateThrottle


def _write_by(user_id: str):
    request = RequestFactory().post("/api/v1/audits")
    request.auth = SimpleNamespace(pk=user_id)
    return request


def test_interleaved_requests_count_into_their_own_users_keys(monkeypatch, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "writes": "5/min"}
    throttle = WriteRateThrottle("writes")
    a_is_reading, b_is_done = threading.Event(), threading.Event()

    def get(key, default=None):
        value = cache.get(key, default)
        if key.endswith("user:a"):  # hold A between reading its history and writing it back
            a_is_reading.set()
            b_is_done.wait(5)
        return value

    monkeypatch.setattr(throttle, "cache", SimpleNamespace(get=get, set=cache.set))
    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault("a", throttle.allow_request(_write_by("a")))
    )
    first.start()
    assert a_is_reading.wait(5)
    results["b"] = throttle.allow_request(_write_by("b"))
    b_is_done.set()
    first.join(5)

    assert results == {"a": True, "b": True}
    assert len(cache.get("throttle_writes_user:a", [])) == 1
    assert len(cache.get("throttle_writes_user:b", [])) == 1


def test_reads_are_not_counted(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "writes": "1/min"}
    throttle = WriteRateThrottle("writes")
    request = RequestFactory().get("/api/v1/audits")
    request.auth = SimpleNamespace(pk="a")

    assert all(throttle.allow_request(request) for _ in range(3))
    assert cache.get("throttle_writes_user:a") is None

"""One throttle instance serves every thread of a gthread worker (and the write throttle every
operation): each request must count into its own caller's key, however the threads interleave,
and concurrent requests of one caller must never both slip under the limit."""

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from django.core.cache import cache
from django.test import RequestFactory

from core import throttles
from core.throttles import WriteRateThrottle


def _write_by(user_id: str):
    request = RequestFactory().post("/api/v1/audits")
    request.auth = SimpleNamespace(pk=user_id)
    return request


def _window_key(throttle, user_id: str) -> str:
    return f"throttle_writes_user:{user_id}:{int(throttle.timer() // throttle.duration)}"


def test_interleaved_requests_count_into_their_own_users_keys(monkeypatch, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "writes": "5/min"}
    throttle = WriteRateThrottle("writes")
    a_is_counting, b_is_done = threading.Event(), threading.Event()
    real_hit = throttles.window_hit

    def hit(*, key, seconds):
        if "_user:a:" in key:  # hold A between naming its key and counting into it
            a_is_counting.set()
            b_is_done.wait(5)
        return real_hit(key=key, seconds=seconds)

    monkeypatch.setattr(throttles, "window_hit", hit)
    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault("a", throttle.allow_request(_write_by("a")))
    )
    first.start()
    assert a_is_counting.wait(5)
    results["b"] = throttle.allow_request(_write_by("b"))
    b_is_done.set()
    first.join(5)

    assert results == {"a": True, "b": True}
    assert cache.get(_window_key(throttle, "a")) == 1
    assert cache.get(_window_key(throttle, "b")) == 1


def test_concurrent_requests_of_one_user_admit_exactly_the_limit(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "writes": "10/min"}
    throttle = WriteRateThrottle("writes")
    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = list(pool.map(lambda _: throttle.allow_request(_write_by("a")), range(30)))
    assert allowed.count(True) == 10
    assert cache.get(_window_key(throttle, "a")) == 30  # refused requests count too
    assert throttle.allow_request(_write_by("a")) is False
    assert 0 < throttle.wait() <= 60  # Retry-After: the rest of the window


def test_reads_are_not_counted(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "writes": "1/min"}
    throttle = WriteRateThrottle("writes")
    request = RequestFactory().get("/api/v1/audits")
    request.auth = SimpleNamespace(pk="a")

    assert all(throttle.allow_request(request) for _ in range(3))
    assert cache.get(_window_key(throttle, "a")) is None

"""The Redis breaker bounds a frozen Redis: once a call failed, a new connection is refused at
once instead of waiting the connect and socket timeouts again (the pool opens a connection before
its first command)."""

import socket
import time

import pytest
import redis

from config import redis_breaker


@pytest.fixture
def frozen_redis():
    """A SIGSTOPped Redis whose listen queue has filled: a new TCP connection is never accepted
    (the kernel drops its SYN), so connecting waits the whole connect timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    queued = []
    for _ in range(8):  # fill the queue; connections past it stay unanswered
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        queued.append(client)
    time.sleep(0.1)
    yield port
    for client in queued:
        client.close()
    server.close()
    redis_breaker._breaker.record_success()  # the next test's Redis is fine


def _client(port: int) -> redis.Redis:
    pool = redis.ConnectionPool(
        host="127.0.0.1",
        port=port,
        socket_connect_timeout=0.3,
        socket_timeout=0.3,
        connection_class=redis_breaker.BreakerConnection,
    )
    return redis.Redis(connection_pool=pool, retry=None)


def test_after_a_timeout_a_new_connection_is_refused_at_once(frozen_redis):
    client = _client(frozen_redis)
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        client.get("key")  # the connection is never accepted
    assert time.monotonic() - started >= 0.3

    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(redis_breaker.CacheCircuitOpen):
            _client(frozen_redis).get("key")  # a fresh pool: a fresh connection
        assert time.monotonic() - started < 0.05

"""The circuit breaker of ``config/postgres/breaker.py``, for Redis.

A frozen Redis (SIGSTOP, a network partition) answers nothing: every cache call waits the whole
``REDIS_SOCKET_TIMEOUT``, and one request makes several (throttle, lockout, session), so each
request took 1.5-3 s and the ones behind it queued. Connections of this class share one breaker
per process: after a failed call the next ones fail at once (``redis.ConnectionError``, a 503
``cache_unavailable`` or a throttle failing open, as before) until one probe gets through.
"""

import redis

from config.postgres.breaker import CircuitBreaker

FAILURES = (redis.ConnectionError, redis.TimeoutError)


class CacheCircuitOpen(redis.ConnectionError):
    """Refused without trying: Redis failed recently and its next probe is not due."""


_breaker = CircuitBreaker(
    refusal=lambda retry_after: CacheCircuitOpen("cache circuit open: Redis failed recently")
)


class BreakerConnection(redis.Connection):
    # The pool opens a connection before its first command (``get_connection`` calls
    # ``connect``, and the handshake reads a reply): while Redis is known down, opening one is
    # refused at once too, or every call on a fresh connection waited the connect and socket
    # timeouts past the open breaker (measured: 5-8 s stalls in the fault suite's frozen Redis).
    def connect(self):
        if self._sock is None:
            _breaker.refuse_if_open()
        try:
            return super().connect()
        except FAILURES:
            _breaker.record_failure()
            raise

    # Every command passes here once, so the breaker is consulted once per command and a probe
    # is one real command.
    def send_command(self, *args, **kwargs):
        _breaker.admit()
        try:
            return super().send_command(*args, **kwargs)
        except FAILURES:
            _breaker.record_failure()
            raise

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except FAILURES:
            _breaker.record_failure()
            raise
        if not _breaker.is_closed:
            _breaker.record_success()
        return response

"""Rate limits on the shared cache (Redis in production), named by scope in THROTTLE_RATES.

Each limit is a fixed-window counter: one atomic ``INCR`` of ``<scope>:<who>:<window>`` per
request (ninja's own throttle keeps a list of timestamps that it reads, rewrites and pickles
whole on every request: its cost grows with the rate, and concurrent requests that read the same
list lose each other's hits). A window lets at most twice the rate through across its boundary.

Throttles fail open: a Redis outage must not take sign-in down with it, so the request passes
and the failure is logged.
"""

import threading

import structlog
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

from core import context
from core.errors import TooManyRequests

logger = structlog.get_logger("parecer.throttle")


class _PerThread:
    """An attribute kept per thread: ninja stores each request's cache key, history and clock on
    the throttle instance, which every thread of a gthread worker shares (and the API-wide write
    throttle is one instance for every operation). Without this, two concurrent requests could
    count into each other's key."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None):
        if instance is None:
            return self
        try:
            return getattr(instance._per_thread, self.name)
        except AttributeError:
            raise AttributeError(self.name) from None

    def __set__(self, instance: object, value: object) -> None:
        instance._per_thread.__dict__[self.name] = value


class ScopedRateThrottle(SimpleRateThrottle):
    """Per client IP, at the rate named by ``scope`` in ``settings.THROTTLE_RATES``."""

    key = _PerThread()
    now = _PerThread()
    window_ends = _PerThread()

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self._per_thread = threading.local()
        super().__init__(rate=settings.THROTTLE_RATES[scope])

    def get_cache_key(self, request: HttpRequest) -> str:
        ip = context.current().ip or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ip}

    def allow_request(self, request: HttpRequest) -> bool:
        rate = settings.THROTTLE_RATES[self.scope]
        if rate != self.rate:  # settings changed since start-up (tests, live reconfiguration)
            self.rate = rate
            self.num_requests, self.duration = self.parse_rate(rate)
        who = self.get_cache_key(request)
        if who is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.key, self.window_ends = f"{who}:{window}", (window + 1) * self.duration
        try:
            return window_hit(key=self.key, seconds=self.duration) <= self.num_requests
        except Exception as exc:
            logger.warning("throttle_failed_open", scope=self.scope, error=str(exc)[:200])
            return True

    def wait(self) -> float:
        """Seconds until the current window ends (the ``Retry-After`` of a 429)."""
        return max(0.0, self.window_ends - self.now)


def window_hit(*, key: str, seconds: int) -> int:
    """Count one hit on a window's counter and return the count: one round trip once the
    window's key exists (the key names its window, so it only needs to outlive it)."""
    try:
        return cache.incr(key)
    except ValueError:  # the window's first hit
        if cache.add(key, 1, seconds):
            return 1
        return cache.incr(key)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UserRateThrottle(ScopedRateThrottle):
    """Per signed-in user: every session and API key of one person share one budget, so more
    keys buy no more requests. Anonymous callers are counted per client IP."""

    def get_cache_key(self, request: HttpRequest) -> str:
        user_id = getattr(getattr(request, "auth", None), "pk", None)
        if user_id is None:
            return super().get_cache_key(request)
        return self.cache_format % {"scope": self.scope, "ident": f"user:{user_id}"}


class WriteRateThrottle(UserRateThrottle):
    """``UserRateThrottle`` that counts only unsafe methods: mounted on the whole API, it bounds
    writes (append-only audit rows, keys, ...) and leaves reads alone."""

    def allow_request(self, request: HttpRequest) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request)


def rate_counter_hit(*, scope: str, ident: str) -> None:
    """Count one event for ``ident`` at ``scope``'s rate (a fixed window); 429 once over it.

    For limits that are not about the caller but about what a request reaches (a recipient's
    inbox, say), checked in services. Fails open like the request throttles.
    """
    limit = ScopedRateThrottle(scope)
    window = int(limit.timer() // limit.duration)
    try:
        count = window_hit(key=f"rate:{scope}:{ident}:{window}", seconds=limit.duration)
    except Exception as exc:
        logger.warning("rate_counter_failed_open", scope=scope, error=str(exc)[:200])
        return
    if count > limit.num_requests:
        raise TooManyRequests("Too many requests; try again later.", retry_after=limit.duration)

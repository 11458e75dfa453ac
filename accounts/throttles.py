"""Rate limits on the shared cache (Redis in production) and the login lockout.

Throttles fail open: a Redis outage must not take sign-in down with it, so the request passes
and the failure is logged. The lockout fails closed (503): it is the brute-force defence.
"""

import time

import structlog
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

from audits import context
from audits.errors import ServiceUnavailable, TooManyRequests

logger = structlog.get_logger("parecer.throttle")


class ScopedRateThrottle(SimpleRateThrottle):
    """Per client IP, at the rate named by ``scope`` in ``settings.THROTTLE_RATES``."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__(rate=settings.THROTTLE_RATES[scope])

    def get_cache_key(self, request: HttpRequest) -> str:
        ip = context.current().ip or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ip}

    def allow_request(self, request: HttpRequest) -> bool:
        rate = settings.THROTTLE_RATES[self.scope]
        if rate != self.rate:  # settings changed since start-up (tests, live reconfiguration)
            self.rate = rate
            self.num_requests, self.duration = self.parse_rate(rate)
        try:
            return super().allow_request(request)
        except Exception as exc:
            logger.warning("throttle_failed_open", scope=self.scope, error=str(exc)[:200])
            return True


def _keys(*, email: str, ip: str | None) -> dict[str, str]:
    # Normalised exactly as the login looks the account up (stripped, case-insensitive): every
    # spelling that reaches an account shares its counter.
    keys = {"account": f"lockout:account:{email.strip().lower()}"}
    if ip:
        keys["ip"] = f"lockout:ip:{ip}"
    return keys


def login_lockout_check(*, email: str, ip: str | None) -> None:
    """Raise 429 with Retry-After while the account or the client IP is locked out."""
    locks = _cache_call(
        cache.get_many, [f"{key}:until" for key in _keys(email=email, ip=ip).values()]
    )
    if locks:
        retry_after = max(locks.values()) - time.time()
        raise TooManyRequests(
            "Too many failed sign-in attempts; try again later.",
            code="login_locked",
            retry_after=int(retry_after) + 1,
        )


def login_failure_count(*, email: str, ip: str | None) -> bool:
    """Count one failure for the account and the IP; True when this one triggered a lockout."""
    window = settings.LOGIN_LOCKOUT_WINDOW
    locked = False
    for key in _keys(email=email, ip=ip).values():
        _cache_call(cache.add, key, 0, window)
        failures = _cache_call(cache.incr, key)
        if failures >= settings.LOGIN_LOCKOUT_ATTEMPTS:
            _cache_call(cache.set, f"{key}:until", time.time() + window, window)
            locked = True
    return locked


def login_failures_reset(*, email: str) -> None:
    """A successful sign-in clears the account's counter (the IP's keeps counting)."""
    key = _keys(email=email, ip=None)["account"]
    _cache_call(cache.delete_many, [key, f"{key}:until"])


def _cache_call(method, *args):
    try:
        return method(*args)
    except ValueError:  # incr on a key that expired between add and incr
        cache.set(args[0], 1, settings.LOGIN_LOCKOUT_WINDOW)
        return 1
    except Exception as exc:
        logger.error("lockout_cache_unavailable", error=str(exc)[:200])
        raise ServiceUnavailable(
            "Sign-in is unavailable while its rate store is down; try again shortly.",
            code="cache_unavailable",
            headers={"Retry-After": "5"},
        ) from exc

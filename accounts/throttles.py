"""The login lockout, on the shared cache (Redis in production).

It fails closed (503): it is the brute-force defence. (Rate throttles live in
``core.throttles`` and fail open.)
"""

import time
import unicodedata

import structlog
from django.conf import settings
from django.core.cache import cache

from core.errors import ServiceUnavailable, TooManyRequests

logger = structlog.get_logger("parecer.throttle")


def lockout_account(*, user_id: object | None, email: str) -> str:
    """The counter an attempt counts against: the resolved account when the address names one,
    else the normalised address.

    Keyed by the account, not the spelling: PostgreSQL's case-insensitive match lets a dotless i
    (U+0131) stand for ``i`` and a long s (U+017F) for ``s``, so a key built from the typed
    address would give each spelling its own allowance. Unknown addresses are NFKC-normalised
    and case-folded.
    """
    if user_id is not None:
        return f"lockout:user:{user_id}"
    return f"lockout:email:{unicodedata.normalize('NFKC', email).strip().casefold()}"


def _keys(*, account: str, ip: str | None) -> dict[str, str]:
    keys = {"account": account}
    if ip:
        keys["ip"] = f"lockout:ip:{ip}"
    return keys


def login_lockout_check(*, account: str, ip: str | None) -> None:
    """Raise 429 with Retry-After while the account or the client IP is locked out."""
    locks = _cache_call(
        cache.get_many, [f"{key}:until" for key in _keys(account=account, ip=ip).values()]
    )
    if locks:
        retry_after = max(locks.values()) - time.time()
        raise TooManyRequests(
            "Too many failed sign-in attempts; try again later.",
            code="login_locked",
            retry_after=int(retry_after) + 1,
        )


def login_failure_count(*, account: str, ip: str | None) -> bool:
    """Count one failure for the account and the IP; True when this one triggered a lockout."""
    window = settings.LOGIN_LOCKOUT_WINDOW
    locked = False
    for key in _keys(account=account, ip=ip).values():
        _cache_call(cache.add, key, 0, window)
        failures = _cache_call(cache.incr, key)
        if failures >= settings.LOGIN_LOCKOUT_ATTEMPTS:
            _cache_call(cache.set, f"{key}:until", time.time() + window, window)
            locked = True
    return locked


def login_failures_reset(*, account: str) -> None:
    """A successful sign-in clears the account's counter (the IP's keeps counting)."""
    _cache_call(cache.delete_many, [account, f"{account}:until"])


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

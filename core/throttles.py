"""Rate limits on the shared cache (Redis in production), named by scope in THROTTLE_RATES.

Throttles fail open: a Redis outage must not take sign-in down with it, so the request passes
and the failure is logged.
"""

import structlog
from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

from core import context

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

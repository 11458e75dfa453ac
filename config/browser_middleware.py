"""The middleware only a browser needs, skipped for API calls that carry a token or an API key.

Sessions, ``request.user`` and messages serve the admin and the API's cookie mode. A machine
client (``Authorization: Bearer`` or ``X-API-Key`` under the API prefix, no cookies) needs none of
them: the API's own auth classes check its credentials and set ``request.user``. These subclasses
stand in MIDDLEWARE where Django's own would (the admin's checks find them as subclasses) and pass
such a call straight through. CSRF stays Django's own: ninja's views are exempt, so it costs an API
call almost nothing, and ``check --deploy`` wants it by name.
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse


def is_machine_api_call(request: HttpRequest) -> bool:
    """Under the API prefix, with a bearer token or an API key, and without any cookie (a request
    with cookies may be a browser's in cookie mode). Decided once per request."""
    decided = getattr(request, "_machine_api_call", None)
    if decided is None:
        meta = request.META
        decided = (
            not meta.get("HTTP_COOKIE")
            and request.path.startswith(settings.API_PREFIX)
            and (
                meta.get("HTTP_AUTHORIZATION", "").startswith("Bearer ") or "HTTP_X_API_KEY" in meta
            )
        )
        request._machine_api_call = decided
    return decided


class _BrowserOnly:
    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_machine_api_call(request):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(_BrowserOnly, SessionMiddleware):
    """Django's sessions, except for a machine's API call."""


class BrowserAuthenticationMiddleware(_BrowserOnly, AuthenticationMiddleware):
    """Django's lazy ``request.user``, except for a machine's API call (its auth sets it)."""


class BrowserMessageMiddleware(_BrowserOnly, MessageMiddleware):
    """Django's messages, except for a machine's API call."""

"""The middleware only a browser needs, skipped for API calls that carry a token or an API key.

Sessions, CSRF, ``request.user``, the admin actor and messages serve the admin and the API's
cookie mode. A machine client (``Authorization: Bearer`` or ``X-API-Key`` under the API prefix,
no cookies) needs none of them: its credentials are checked by the API's own auth classes, and
ninja's views are CSRF-exempt anyway (cookie mode checks CSRF itself, accounts/auth.py). Skipping
them saves a session and CSRF cookie parse, a lazy user and the messages storage per request.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

_SKIPPED = "_browser_middleware_skipped"


def is_machine_api_call(request: HttpRequest, *, prefix: str) -> bool:
    """Under the API prefix, with a bearer token or an API key, and without any cookie (a request
    with cookies is a browser's, which may be in cookie mode and need a CSRF cookie set)."""
    meta = request.META
    return (
        not meta.get("HTTP_COOKIE")
        and request.path.startswith(prefix)
        and (meta.get("HTTP_AUTHORIZATION", "").startswith("Bearer ") or "HTTP_X_API_KEY" in meta)
    )


class BrowserMiddleware:
    """Runs ``settings.BROWSER_MIDDLEWARE`` (in that order, at this place of ``MIDDLEWARE``)
    around the rest of the stack, unless the request is a machine's API call."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = settings.API_PREFIX
        handler = get_response
        view_hooks = []
        for path in reversed(settings.BROWSER_MIDDLEWARE):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_exception") or hasattr(
                middleware, "process_template_response"
            ):
                # Only process_view is forwarded below; the rest would be silently lost.
                raise ImproperlyConfigured(f"{path} cannot be a BROWSER_MIDDLEWARE entry.")
            if hasattr(middleware, "process_view"):
                view_hooks.insert(0, middleware.process_view)
            # As Django's own handler does: an exception in one layer becomes its response.
            handler = convert_exception_to_response(middleware)
        self.browser_chain = handler
        self.view_hooks = view_hooks

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_machine_api_call(request, prefix=self.prefix):
            setattr(request, _SKIPPED, True)
            return self.get_response(request)
        return self.browser_chain(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        # Django calls this once URL resolution is done; CSRF's check lives here.
        if getattr(request, _SKIPPED, False):
            return None
        for hook in self.view_hooks:
            response = hook(request, view_func, view_args, view_kwargs)
            if response is not None:
                return response
        return None

"""Request-wide middleware: the request id and access log, and the API's error envelope."""

import ipaddress
import re
import time
from collections.abc import Callable

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from config import metrics
from config.errors import error_response
from core import context

access_logger = structlog.get_logger("parecer.access")

# Accept a client's id only when it is short and plain: it ends up in logs and headers.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def client_ip(request: HttpRequest) -> str | None:
    """The socket's address, or the X-Forwarded-For hop set by a configured trusted proxy."""
    remote = request.META.get("REMOTE_ADDR")
    trusted = settings.TRUSTED_PROXIES
    if not trusted or remote not in trusted:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if hop in trusted:
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return remote
    return remote


def _route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return "/" + match.route if match.route else match.view_name


def _user_id_or_none(request: HttpRequest) -> str | None:
    # The access line must not fail a request: reading the user may need the session store,
    # which is what just failed when the response is a 503 for a Redis outage.
    try:
        user = request.user
        return str(user.pk) if user.is_authenticated else None
    except Exception:
        return None


class RequestContextMiddleware:
    """Outermost: binds the request id and client into the context, logs one access line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else context.new_request_id()
        request.request_id = request_id
        source = "admin" if request.path.startswith("/" + settings.ADMIN_URL) else "api"
        initial = context.RequestContext(
            request_id=request_id,
            source=source,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            actor_label="anonymous",
        )
        with context.bound(initial):
            response = self.get_response(request)
            duration = time.perf_counter() - started
            route = _route_of(request)
            response["X-Request-ID"] = request_id
            metrics.observe_request(
                route=route, method=request.method, status=response.status_code, seconds=duration
            )
            user_id = context.current().actor_user_id
            if user_id is None and getattr(request, "user", None) is not None:
                user_id = _user_id_or_none(request)
            access_logger.info(
                "request",
                method=request.method,
                route=route,
                path=request.path,
                status=response.status_code,
                duration_ms=round(duration * 1000, 2),
                user_id=user_id,
            )
        return response


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ACCEPTED_MEDIA = ("application/json", "multipart/form-data")


_NUL_MESSAGE = "NUL characters (%00) are not accepted in query parameters."


def _query_has_nul(request: HttpRequest) -> bool:
    return any("\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists())


class ApiErrorEnvelopeMiddleware:
    """Under the API prefix: refuse unknown media types (415) and NUL in the query (422), and
    envelope any bare error. Elsewhere (the admin): NUL in the query is a plain 400."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = settings.API_PREFIX

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query_string = request.META.get("QUERY_STRING", "")
        has_nul = ("%00" in query_string or "\x00" in query_string) and _query_has_nul(request)
        if not request.path.startswith(self.prefix):
            # The admin's searches and filters would hit the same database error.
            return (
                HttpResponseBadRequest(_NUL_MESSAGE, content_type="text/plain")
                if has_nul
                else self.get_response(request)
            )
        if request.method in _BODY_METHODS and request.META.get("CONTENT_LENGTH", "0") not in (
            "",
            "0",
        ):
            media_type = request.content_type or ""
            if media_type not in _ACCEPTED_MEDIA:
                return error_response(
                    status=415,
                    message=f"Send application/json (got {media_type or 'no Content-Type'}).",
                )
        if has_nul:  # PostgreSQL text cannot hold NUL: refuse here instead of failing in a query
            return error_response(
                status=422,
                code="nul_character",
                message=_NUL_MESSAGE,
                details=[{"field": "query", "in": "query", "reason": "contains %00"}],
            )
        response = self.get_response(request)
        if response.status_code >= 400 and not getattr(response, "error_enveloped", False):
            if response.get("Content-Type", "").startswith("application/json") and (
                response.status_code not in (404, 405)
            ):
                return response
            headers = {"Allow": response["Allow"]} if response.has_header("Allow") else {}
            if response.has_header("Retry-After"):
                headers["Retry-After"] = response["Retry-After"]
            return error_response(status=response.status_code, headers=headers)
        return response


class AdminActorMiddleware:
    """After authentication: an admin-site user becomes the actor of what that request audits."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = "/" + settings.ADMIN_URL

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.prefix) and request.user.is_authenticated:
            context.set_actor(user_id=str(request.user.pk), label=request.user.email)
        return self.get_response(request)

"""The one error envelope: ``{"error": {"code", "message", "details", "request_id"}}``.

Everything that can fail on the way to a client ends here: ninja's exception handlers (views),
Django's error handlers (middleware and URL resolution), and the envelope middleware (responses
that Django or ninja built without raising, like 405). Nothing else formats errors.
"""

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import sentry_sdk
import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from config.postgres.breaker import DatabaseCircuitOpen, retry_after_header
from core import context
from core.errors import DatabaseTimeout, DomainError

logger = structlog.get_logger("parecer.errors")

RETRY_AFTER_OUTAGE = "5"

CODE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "throttled",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def error_response(
    *,
    status: int,
    code: str | None = None,
    message: str | None = None,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """Build the envelope; the request id is the one the middleware bound for this request."""
    body = {
        "error": {
            "code": code or CODE_BY_STATUS.get(status, "error"),
            "message": message or HTTPStatus(status).phrase,
            "details": details,
            "request_id": context.current().request_id,
        }
    }
    response = JsonResponse(body, status=status)
    if status == 401:
        # RFC 9110: a 401 names the scheme that would work (a more specific one may follow).
        response["WWW-Authenticate"] = 'Bearer realm="parecer"'
    for name, value in (headers or {}).items():
        response[name] = value
    response.error_enveloped = True
    return response


def _cache_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    try:
        from django_redis.exceptions import ConnectionInterrupted
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        errors += [ConnectionInterrupted, RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover - django-redis is a hard dependency
        pass
    return tuple(errors)


CACHE_ERRORS = _cache_errors()
DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)


def _validation_details(errors: list[dict]) -> list[dict]:
    """ninja/pydantic errors as ``[{"field": "email", "in": "body", "reason": "..."}]``."""
    details = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        where = location[0] if location else "body"
        # ninja puts the view's parameter name second (body.payload.email): not the client's concern.
        path = location[2:] if len(location) > 2 else location[1:]
        details.append(
            {
                "field": ".".join(path) or where,
                "in": where,
                "reason": error.get("msg", "invalid"),
                "type": error.get("type", "invalid"),
            }
        )
    return details


# SQLSTATEs of a bounded wait that ran out: 57014 query_canceled (statement_timeout),
# 55P03 lock_not_available (lock_timeout). Matched on the code, never the message text.
DATABASE_TIMEOUT_SQLSTATES = frozenset({"57014", "55P03"})


def _is_database_timeout(exc: BaseException) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in DATABASE_TIMEOUT_SQLSTATES


def _domain_error(exc: DomainError) -> JsonResponse:
    return error_response(
        status=exc.status,
        code=exc.code,
        message=exc.message,
        details=exc.details,
        headers=exc.headers,
    )


def _throttled(exc: Throttled) -> JsonResponse:
    wait = max(int(exc.wait or 1), 1)
    return error_response(
        status=429, message="Too many requests.", headers={"Retry-After": str(wait)}
    )


def _http_error(exc: HttpError) -> JsonResponse:
    if isinstance(exc.__cause__, DomainError):  # raised by the strict parser, wrapped by ninja
        return response_for_exception(exc.__cause__)
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return error_response(
            status=400, code="malformed_json", message="The request body is not valid JSON."
        )
    return error_response(status=exc.status_code, message=str(exc))


def _database_timeout(exc: BaseException) -> JsonResponse:
    logger.warning("database_timeout", sqlstate=exc.__cause__.sqlstate)
    return _domain_error(DatabaseTimeout())


def _database_outage(exc: BaseException) -> JsonResponse:
    if not isinstance(exc, DatabaseCircuitOpen):  # the breaker refusing is not news
        logger.error("database_unavailable", error=str(exc).splitlines()[0][:200])
    return error_response(
        status=503,
        code="database_unavailable",
        message="The database is unavailable; try again shortly.",
        headers={"Retry-After": retry_after_header(exc, default=int(RETRY_AFTER_OUTAGE))},
    )


def _cache_outage(exc: BaseException) -> JsonResponse:
    logger.error("cache_unavailable", error=str(exc)[:200])
    return error_response(
        status=503,
        code="cache_unavailable",
        message="The cache is unavailable; try again shortly.",
        headers={"Retry-After": RETRY_AFTER_OUTAGE},
    )


def _unexpected(exc: BaseException) -> JsonResponse:
    logger.error("unhandled_exception", exc_info=exc)
    sentry_sdk.capture_exception(exc)  # a no-op unless SENTRY_DSN is set
    return error_response(status=500, message="An unexpected error occurred.")


def _fixed(status: int, message: str, code: str | None = None) -> Callable[..., JsonResponse]:
    return lambda exc: error_response(status=status, code=code, message=message)


# Exception -> response, first match wins (so a subclass goes above its base). A row is
# (exception classes, predicate or None, responder).
EXCEPTION_RESPONSES: tuple[
    tuple[tuple[type[BaseException], ...], Callable[[BaseException], bool] | None, Callable], ...
] = (
    ((DomainError,), None, _domain_error),
    (
        (ValidationError,),
        None,
        lambda exc: error_response(
            status=422,
            message="The request is not valid.",
            details=_validation_details(exc.errors),
        ),
    ),
    ((Throttled,), None, _throttled),
    (
        (AuthenticationError,),
        None,
        _fixed(401, "Authentication credentials are missing or invalid."),
    ),
    ((HttpError,), None, _http_error),
    ((RequestDataTooBig,), None, _fixed(413, "The request body is too large.")),
    # A form body already consumed as a form (by the CSRF check) where a JSON body was expected.
    ((RawPostDataException,), None, _fixed(415, "This endpoint takes application/json.")),
    ((SuspiciousOperation,), None, _fixed(400, "The request was refused as malformed.")),
    ((Http404,), None, _fixed(404, "Not found.")),
    ((DjangoPermissionDenied,), None, _fixed(403, "You do not have permission to do this.")),
    ((OperationalError,), _is_database_timeout, _database_timeout),
    (DATABASE_OUTAGE_ERRORS, None, _database_outage),
    (CACHE_ERRORS, None, _cache_outage),
    ((DatabaseError,), None, lambda exc: _unexpected(exc)),
)


def response_for_exception(exc: BaseException) -> JsonResponse:
    """Map any exception to its enveloped response (never a traceback)."""
    for classes, applies, respond in EXCEPTION_RESPONSES:
        if classes and isinstance(exc, classes) and (applies is None or applies(exc)):
            return respond(exc)
    return _unexpected(exc)


def install_exception_handlers(api: NinjaAPI) -> None:
    """Route every exception a ninja view raises through ``response_for_exception``."""

    def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
        return response_for_exception(exc)

    # ninja picks the most specific registered class, and registers its own for these.
    for exc_class in (Exception, Http404, HttpError, ValidationError, DomainError):
        api.add_exception_handler(exc_class, handle)


# --- Django's own handlers, for failures outside ninja (URL resolution, middleware) ------------


def _wants_envelope(request: HttpRequest) -> bool:
    from django.conf import settings

    return request.path.startswith((settings.API_PREFIX, "/health", "/metrics"))


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return error_response(status=413, message="The request body is too large.")
    return error_response(status=400, message="The request was refused as malformed.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_envelope(request):
        return error_response(status=403, message="You do not have permission to do this.")
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_envelope(request):
        return error_response(status=404, message=f"No resource at {request.path}.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """Called by Django inside its ``except`` block, so the exception is still at hand."""
    import sys

    exc = sys.exc_info()[1]
    if exc is not None:
        response = response_for_exception(exc)
        if _wants_envelope(request):
            return response
        if response.status_code == 503:
            return unavailable_page(response)
    from django.views.defaults import server_error

    return server_error(request)


def unavailable_page(enveloped: JsonResponse) -> HttpResponse:
    """The HTML twin of a 503 envelope, for the admin site: a person reads it, not a client."""
    import json

    from django.utils.html import format_html

    error = json.loads(enveloped.content)["error"]
    body = format_html(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Temporarily unavailable</title></head><body>"
        "<h1>Temporarily unavailable</h1><p>{}</p><p>Nothing was lost: you are still signed in."
        " Reload this page in a few seconds.</p><p><small>Request id: {}</small></p>"
        "</body></html>",
        error["message"],
        error["request_id"] or "",
    )
    response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    if enveloped.has_header("Retry-After"):
        response["Retry-After"] = enveloped["Retry-After"]
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        status=403,
        code="csrf_failed",
        message="CSRF verification failed.",
        details={"reason": reason},
    )


logging.getLogger("django.security.csrf").setLevel(logging.ERROR)

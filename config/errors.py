"""The one error envelope: ``{"error": {"code", "message", "details", "request_id"}}``.

Everything that can fail on the way to a client ends here: ninja's exception handlers (views),
Django's error handlers (middleware and URL resolution), and the envelope middleware (responses
that Django or ninja built without raising, like 405). Nothing else formats errors.
"""

import logging
from http import HTTPStatus
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from core import context
from core.errors import DomainError

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


def response_for_exception(exc: BaseException) -> JsonResponse:
    """Map any exception to its enveloped response (never a traceback)."""
    if isinstance(exc, DomainError):
        return error_response(
            status=exc.status,
            code=exc.code,
            message=exc.message,
            details=exc.details,
            headers=exc.headers,
        )
    if isinstance(exc, ValidationError):
        return error_response(
            status=422,
            message="The request is not valid.",
            details=_validation_details(exc.errors),
        )
    if isinstance(exc, Throttled):
        wait = int(exc.wait or 1)
        return error_response(
            status=429, message="Too many requests.", headers={"Retry-After": str(max(wait, 1))}
        )
    if isinstance(exc, AuthenticationError):
        return error_response(
            status=401, message="Authentication credentials are missing or invalid."
        )
    if isinstance(exc, HttpError):
        if isinstance(exc.__cause__, DomainError):  # raised by the strict parser, wrapped by ninja
            return response_for_exception(exc.__cause__)
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            return error_response(
                status=400, code="malformed_json", message="The request body is not valid JSON."
            )
        return error_response(status=exc.status_code, message=str(exc))
    if isinstance(exc, RequestDataTooBig):
        return error_response(status=413, message="The request body is too large.")
    if isinstance(exc, RawPostDataException):
        # A form body already consumed as a form (by the CSRF check) where a JSON body was expected.
        return error_response(status=415, message="This endpoint takes application/json.")
    if isinstance(exc, SuspiciousOperation):
        return error_response(status=400, message="The request was refused as malformed.")
    if isinstance(exc, Http404):
        return error_response(status=404, message="Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return error_response(status=403, message="You do not have permission to do this.")
    if isinstance(exc, DATABASE_OUTAGE_ERRORS):
        logger.error("database_unavailable", error=str(exc).splitlines()[0][:200])
        return error_response(
            status=503,
            code="database_unavailable",
            message="The database is unavailable; try again shortly.",
            headers={"Retry-After": RETRY_AFTER_OUTAGE},
        )
    if CACHE_ERRORS and isinstance(exc, CACHE_ERRORS):
        logger.error("cache_unavailable", error=str(exc)[:200])
        return error_response(
            status=503,
            code="cache_unavailable",
            message="The cache is unavailable; try again shortly.",
            headers={"Retry-After": RETRY_AFTER_OUTAGE},
        )
    if isinstance(exc, DatabaseError):
        logger.exception("database_error")
        return error_response(status=500, message="An unexpected error occurred.")
    logger.error("unhandled_exception", exc_info=exc)
    return error_response(status=500, message="An unexpected error occurred.")


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
        if _wants_envelope(request) or response.status_code == 503:
            return response
    from django.views.defaults import server_error

    return server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        status=403,
        code="csrf_failed",
        message="CSRF verification failed.",
        details={"reason": reason},
    )


logging.getLogger("django.security.csrf").setLevel(logging.ERROR)

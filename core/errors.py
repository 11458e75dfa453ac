"""Domain errors that services raise; ``config.errors`` turns them into the API's error envelope.

They live on the ground floor so every app's services can raise them without knowing about HTTP
beyond a status number.
"""

from typing import Any

from ninja import Schema


class DomainError(Exception):
    """A failure a client can act on: a stable ``code``, a readable message, a status."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details
        self.headers = headers or {}


class NotFound(DomainError):
    status, code = 404, "not_found"


class PermissionDenied(DomainError):
    status, code = 403, "permission_denied"


class NotAuthenticated(DomainError):
    status, code = 401, "not_authenticated"


class Conflict(DomainError):
    status, code = 409, "conflict"


class InvalidInput(DomainError):
    status, code = 422, "validation_error"


class TooManyRequests(DomainError):
    status, code = 429, "throttled"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))}, **kwargs)


class ServiceUnavailable(DomainError):
    status, code = 503, "service_unavailable"


class DatabaseTimeout(DomainError):
    """A statement or lock wait that ran out (PostgreSQL's, or one bounded like it): nothing of
    the request's transaction was written, and the contention is usually gone by the retry."""

    status, code = 503, "database_timeout"

    def __init__(self) -> None:
        super().__init__(
            "The database took too long to answer; try again shortly.",
            headers={"Retry-After": "2"},
        )


class ErrorBody(Schema):
    code: str
    message: str
    details: Any = None
    request_id: str


class ErrorOut(Schema):
    """The body of every API error."""

    error: ErrorBody

    @classmethod
    def json_schema_defs(cls) -> dict:
        """ErrorOut and ErrorBody as OpenAPI component schemas."""
        schema = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        defs = schema.pop("$defs", {})
        return {**defs, "ErrorOut": schema}

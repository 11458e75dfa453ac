"""LLM failures, classified once and here: a stable code, whether a retry can help, and why.

The analyses app decides retries from ``retryable`` and ``retry_after`` alone; the SDK's own retry
loop is off. Classification reads status codes and the structured ``error.code`` of the body,
never the message text, which providers reword freely.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import TYPE_CHECKING, Any

import openai

if TYPE_CHECKING:
    from analyses.llm.records import LLMResult

AUTH_FAILED = "llm_auth_failed"
PERMISSION_DENIED = "llm_permission_denied"
BAD_REQUEST = "llm_bad_request"
NOT_FOUND = "llm_not_found"
CONTEXT_TOO_LONG = "llm_context_too_long"
RATE_LIMITED = "llm_rate_limited"
TIMEOUT = "llm_timeout"
UNAVAILABLE = "llm_unavailable"
REFUSED = "llm_refused"
OUTPUT_INVALID = "llm_output_invalid"
NOT_CONFIGURED = "llm_not_configured"

# code -> retryable. Exceptions to the default are decided per error below (an exhausted quota
# is a 429 that no retry fixes).
RETRYABLE = {
    AUTH_FAILED: False,
    PERMISSION_DENIED: False,
    BAD_REQUEST: False,
    NOT_FOUND: False,
    CONTEXT_TOO_LONG: False,
    RATE_LIMITED: True,
    TIMEOUT: True,
    UNAVAILABLE: True,
    REFUSED: False,
    # The model had its chance and the tokens are spent; a person may retry, a loop should not.
    OUTPUT_INVALID: False,
    NOT_CONFIGURED: False,
}

# Structured body codes that override what the status alone says.
_CONTEXT_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
_FILTER_CODES = frozenset({"content_filter", "content_policy_violation"})
_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
_UPSTREAM_MESSAGE_MAX = 300


class LLMError(Exception):
    """A classified LLM failure. ``result`` holds what the model did reply (refusal, invalid
    output) so the raw text and the spent tokens can still be recorded."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool | None = None,
        upstream_status: int | None = None,
        upstream_code: str | None = None,
        upstream_request_id: str | None = None,
        retry_after: float | None = None,
        result: LLMResult | None = None,
    ) -> None:
        # args are (code, message) so the error pickles (a task backend may store it).
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.retryable = RETRYABLE[code] if retryable is None else retryable
        self.upstream_status = upstream_status
        self.upstream_code = upstream_code
        self.upstream_request_id = upstream_request_id
        self.retry_after = retry_after
        self.result = result
        self.latency_ms: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for an analysis's error fields or a log line."""
        return {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "upstream_status": self.upstream_status,
            "upstream_code": self.upstream_code,
            "upstream_request_id": self.upstream_request_id,
            "retry_after": self.retry_after,
            "latency_ms": self.latency_ms,
        }


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Remove secrets from text that came from elsewhere (a gateway may echo the key back)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def retry_after_seconds(headers: Any) -> float | None:
    """``retry-after-ms`` (OpenAI), else ``Retry-After`` as seconds or an HTTP date."""
    if headers is None:
        return None
    if raw_ms := headers.get("retry-after-ms"):
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _upstream_message(error: openai.APIStatusError, secrets: tuple[str, ...]) -> str:
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        text = body["message"]
    else:
        text = error.response.text if error.response is not None else ""
    return scrub(text, secrets)[:_UPSTREAM_MESSAGE_MAX] or "no message"


def _from_status(error: openai.APIStatusError, secrets: tuple[str, ...]) -> LLMError:
    status = error.status_code
    upstream_code = error.code
    common = {
        "upstream_status": status,
        "upstream_code": upstream_code,
        "upstream_request_id": error.request_id,
    }
    detail = _upstream_message(error, secrets)
    if upstream_code in _CONTEXT_CODES:
        return LLMError(
            CONTEXT_TOO_LONG, f"the input is too long for the model: {detail}", **common
        )
    if upstream_code in _FILTER_CODES:
        return LLMError(
            REFUSED, f"the provider's content filter refused the input: {detail}", **common
        )
    if status == 401:
        return LLMError(AUTH_FAILED, f"the LLM server refused the API key: {detail}", **common)
    if status == 403:
        return LLMError(PERMISSION_DENIED, f"the API key may not do this: {detail}", **common)
    if status == 404:
        return LLMError(NOT_FOUND, f"model or endpoint not found: {detail}", **common)
    if status == 408:
        return LLMError(TIMEOUT, f"the LLM server timed out: {detail}", **common)
    if status == 429:
        if upstream_code in _QUOTA_CODES:
            return LLMError(RATE_LIMITED, f"quota exhausted: {detail}", retryable=False, **common)
        return LLMError(
            RATE_LIMITED,
            f"rate limited: {detail}",
            retry_after=retry_after_seconds(error.response.headers),
            **common,
        )
    # 409 is OpenAI's "try again" (a lock timeout); 5xx are the server's own faults.
    if status == 409 or status >= 500:
        return LLMError(
            UNAVAILABLE,
            f"the LLM server failed (HTTP {status}): {detail}",
            retry_after=retry_after_seconds(error.response.headers),
            **common,
        )
    return LLMError(BAD_REQUEST, f"the LLM server rejected the request: {detail}", **common)


def classify(error: Exception, *, secrets: tuple[str, ...]) -> LLMError:
    """Map an exception raised by the SDK (or by decoding its reply) to an ``LLMError``."""
    if isinstance(error, LLMError):
        return error
    if isinstance(error, openai.APITimeoutError):
        return LLMError(TIMEOUT, "the LLM server did not answer in time")
    if isinstance(error, openai.APIConnectionError):
        cause = type(error.__cause__).__name__ if error.__cause__ else "connection error"
        return LLMError(UNAVAILABLE, f"could not reach the LLM server ({cause})")
    if isinstance(error, openai.APIStatusError):
        return _from_status(error, secrets)
    # A 200 whose body is not the JSON it claims to be: a broken server or proxy, not the model's
    # answer, so it is the server being unavailable (retryable), not llm_output_invalid.
    if isinstance(error, openai.APIResponseValidationError | json.JSONDecodeError):
        status = getattr(error, "status_code", None)
        return LLMError(
            UNAVAILABLE, "the LLM server sent a malformed reply", upstream_status=status
        )
    if isinstance(error, openai.OpenAIError):  # an SDK failure no case above knows: no blind retry
        return LLMError(
            UNAVAILABLE, f"the OpenAI SDK failed ({type(error).__name__})", retryable=False
        )
    raise error  # a bug in Parecer, not an LLM failure: let it surface as itself

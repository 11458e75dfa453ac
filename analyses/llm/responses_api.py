"""The Responses API (``/responses``): the request, and the reply read into an ``LLMResult``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analyses.llm import errors
from analyses.llm.messages import SCHEMA_NAME, parameters_check, refused_or, wire_messages
from analyses.llm.records import ImageInput, LLMResult, Usage

ALLOWED = frozenset({"temperature", "top_p", "max_output_tokens", "reasoning_effort"})

# The Responses API's incomplete reasons, in the Chat Completions words LLMResult uses.
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
# A failed response carries an error object with a code; these are the ones a retry can fix.
_FAILED_RETRYABLE = {"server_error": errors.UNAVAILABLE, "rate_limit_exceeded": errors.RATE_LIMITED}


def _with_images(text: str, images: Sequence[ImageInput]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "input_text", "text": text}] if text else []
    parts += [
        {"type": "input_image", "image_url": image.data_url(), "detail": "auto"} for image in images
    ]
    return parts


def responses_request(
    *,
    messages: Sequence[Mapping[str, Any]],
    images: Sequence[ImageInput],
    parameters: Mapping[str, Any],
    output_schema: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Keyword arguments for ``client.responses.create`` (the model aside)."""
    parameters_check(parameters, allowed=ALLOWED, style="responses")
    wire = wire_messages(messages, images, content_parts=_with_images)
    # store=False: Parecer keeps its own record; nothing needs to live on OpenAI's side.
    request: dict[str, Any] = {"input": wire, "store": False}
    for name, value in parameters.items():
        if name == "reasoning_effort":
            request["reasoning"] = {"effort": value}
        else:
            request[name] = value
    if output_schema is not None:
        request["text"] = {
            "format": {
                "type": "json_schema",
                "name": SCHEMA_NAME,
                "schema": dict(output_schema),
                "strict": False,
            }
        }
    return request


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    input_details = getattr(usage, "input_tokens_details", None)
    output_details = getattr(usage, "output_tokens_details", None)
    return Usage(
        input_tokens=getattr(usage, "input_tokens", None) or 0,
        cached_input_tokens=getattr(input_details, "cached_tokens", None) or 0,
        output_tokens=getattr(usage, "output_tokens", None) or 0,
        reasoning_tokens=getattr(output_details, "reasoning_tokens", None) or 0,
    )


def _finish_reason(response: Any) -> str | None:
    status = getattr(response, "status", None)
    if status == "completed":
        return "stop"
    if status == "incomplete":
        reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
        return _INCOMPLETE_REASONS.get(reason, reason)
    return status


def _failed(response: Any, upstream_request_id: str | None) -> errors.LLMError:
    error = getattr(response, "error", None)
    code = getattr(error, "code", None)
    message = str(getattr(error, "message", None) or "no message")[:300]
    return errors.LLMError(
        _FAILED_RETRYABLE.get(code, errors.BAD_REQUEST if code else errors.UNAVAILABLE),
        f"the response failed ({code or 'no code'}): {message}",
        upstream_code=code,
        upstream_request_id=upstream_request_id,
    )


def responses_result(response: Any, *, upstream_request_id: str | None) -> LLMResult:
    """Read a ``Response``; a refusal or a content filter raises ``llm_refused``."""
    if getattr(response, "id", None) is None:
        raise errors.LLMError(
            errors.UNAVAILABLE,
            "the LLM server sent a reply that is not a response",
            upstream_request_id=upstream_request_id,
        )
    if getattr(response, "status", None) == "failed":
        raise _failed(response, upstream_request_id)
    texts: list[str] = []
    refusals: list[str] = []
    for item in getattr(response, "output", None) or []:
        if getattr(item, "type", None) != "message":
            continue  # reasoning summaries, tool calls: not the answer
        for part in getattr(item, "content", None) or []:
            if getattr(part, "type", None) == "output_text":
                texts.append(part.text or "")
            elif getattr(part, "type", None) == "refusal":
                refusals.append(part.refusal or "")
    return refused_or(
        LLMResult(
            api_style="responses",
            model=getattr(response, "model", None) or "",
            response_id=response.id,
            upstream_request_id=upstream_request_id,
            finish_reason=_finish_reason(response),
            text="".join(texts),
            usage=_usage(getattr(response, "usage", None)),
            refusal="\n".join(refusals) or None,
        )
    )

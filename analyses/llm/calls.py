"""``llm_call``: one request to the configured LLM server, recorded or classified."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from analyses.llm import errors
from analyses.llm.chat_completions import chat_request, chat_result
from analyses.llm.client import API_STYLES, LLMSettings, openai_client
from analyses.llm.messages import messages_check
from analyses.llm.records import ImageInput, LLMResult
from analyses.llm.responses_api import responses_request, responses_result
from analyses.llm.structured import reply_parse

logger = structlog.get_logger("parecer.llm")


def llm_configured() -> bool:
    """Whether an API key is set (no network); without one every call is ``llm_not_configured``."""
    return LLMSettings.current().configured


def _send(*, config: LLMSettings, style: str, model: str, request: dict[str, Any]) -> LLMResult:
    client = openai_client(config)
    if style == "chat":
        raw = client.chat.completions.with_raw_response.create(model=model, **request)
    else:
        raw = client.responses.with_raw_response.create(model=model, **request)
    request_id = raw.headers.get("x-request-id")
    try:
        reply = raw.parse()
    except ValueError as error:  # JSONDecodeError, or the SDK's validation error
        # A 200 whose body is not the JSON it claims: a broken server or proxy, not the model's
        # answer, so the server is unavailable (retryable), not llm_output_invalid.
        raise errors.LLMError(
            errors.UNAVAILABLE,
            "the LLM server sent a malformed reply",
            upstream_status=raw.status_code,
            upstream_request_id=request_id,
        ) from error
    if isinstance(reply, str):  # the SDK hands back the text of a non-JSON content type
        raise errors.LLMError(
            errors.UNAVAILABLE,
            "the LLM server sent a reply that is not JSON",
            upstream_status=raw.status_code,
            upstream_request_id=request_id,
        )
    if style == "chat":
        return chat_result(reply, upstream_request_id=request_id)
    return responses_result(reply, upstream_request_id=request_id)


def _structured(result: LLMResult, schema: Mapping[str, Any]) -> LLMResult:
    parsed, problem = reply_parse(result.text, schema)
    if problem is None:
        return dataclasses.replace(result, parsed_json=parsed)
    if result.finish_reason == "length":
        problem = f"the reply was cut off at the token limit; {problem}"
    raise errors.LLMError(
        errors.OUTPUT_INVALID,
        problem,
        upstream_request_id=result.upstream_request_id,
        result=result,
    )


def llm_call(
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    parameters: Mapping[str, Any] | None = None,
    output_schema: Mapping[str, Any] | None = None,
    images: Sequence[ImageInput] = (),
    api_style: str | None = None,
) -> LLMResult:
    """Send one prompt and return the reply; every LLM failure is an ``LLMError``.

    ``messages`` are ``{"role", "content"}`` dicts (a rendered prompt version); ``parameters``
    use the neutral names in ``SUPPORTED_PARAMETERS``; ``images`` go with the last user message;
    ``api_style`` (``chat`` | ``responses``) overrides OPENAI_API_STYLE. With ``output_schema``
    the reply must be JSON matching it: ``parsed_json`` holds it, or ``llm_output_invalid`` is
    raised with the raw reply in ``error.result``. No retries here: see ``LLMError.retryable``.
    """
    config = LLMSettings.current()
    style = api_style or config.api_style
    started = time.monotonic()
    try:
        if not config.configured:
            raise errors.LLMError(errors.NOT_CONFIGURED, "OPENAI_API_KEY is not set")
        if style not in API_STYLES:
            raise errors.LLMError(
                errors.BAD_REQUEST, f"api style must be one of {', '.join(API_STYLES)}"
            )
        messages_check(messages, images)
        build = chat_request if style == "chat" else responses_request
        request = build(
            messages=messages,
            images=images,
            parameters=parameters or {},
            output_schema=output_schema,
        )
        result = _send(config=config, style=style, model=model, request=request)
        if output_schema is not None:
            result = _structured(result, output_schema)
    except Exception as exc:
        error = errors.classify(exc, secrets=(config.api_key,))
        error.latency_ms = _elapsed_ms(started)
        if error.result is not None:
            error.result = dataclasses.replace(error.result, latency_ms=error.latency_ms)
        logger.warning("llm_call_failed", model=model, api_style=style, **error.as_dict())
        # "from None": the SDK's exception may quote the upstream body, which may echo the key.
        raise error from None
    result = dataclasses.replace(result, latency_ms=_elapsed_ms(started))
    logger.info(
        "llm_call_succeeded",
        model=result.model,
        api_style=style,
        response_id=result.response_id,
        upstream_request_id=result.upstream_request_id,
        finish_reason=result.finish_reason,
        latency_ms=result.latency_ms,
        **dataclasses.asdict(result.usage),
    )
    return result


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)

"""Chat Completions (``/chat/completions``): the request, and the reply read into an ``LLMResult``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analyses.llm import errors
from analyses.llm.messages import (
    SCHEMA_NAME,
    SUPPORTED_PARAMETERS,
    parameters_check,
    refused_or,
    wire_messages,
)
from analyses.llm.records import ImageInput, LLMResult, Usage

# Chat Completions takes every neutral parameter.
ALLOWED = SUPPORTED_PARAMETERS


def _with_images(text: str, images: Sequence[ImageInput]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    parts += [{"type": "image_url", "image_url": {"url": image.data_url()}} for image in images]
    return parts


def chat_request(
    *,
    messages: Sequence[Mapping[str, Any]],
    images: Sequence[ImageInput],
    parameters: Mapping[str, Any],
    output_schema: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Keyword arguments for ``client.chat.completions.create`` (the model aside)."""
    parameters_check(parameters, allowed=ALLOWED, style="chat")
    wire = wire_messages(messages, images, content_parts=_with_images)
    request: dict[str, Any] = {"messages": wire}
    for name, value in parameters.items():
        # max_tokens is deprecated and refused by reasoning models; max_completion_tokens is not.
        request["max_completion_tokens" if name == "max_output_tokens" else name] = value
    if output_schema is not None:
        request["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "schema": dict(output_schema), "strict": False},
        }
    return request


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    return Usage(
        input_tokens=getattr(usage, "prompt_tokens", None) or 0,
        cached_input_tokens=getattr(prompt_details, "cached_tokens", None) or 0,
        output_tokens=getattr(usage, "completion_tokens", None) or 0,
        reasoning_tokens=getattr(completion_details, "reasoning_tokens", None) or 0,
    )


def chat_result(completion: Any, *, upstream_request_id: str | None) -> LLMResult:
    """Read a ``ChatCompletion``; a refusal or a content filter raises ``llm_refused``."""
    choices = getattr(completion, "choices", None) or []
    if not choices or getattr(choices[0], "message", None) is None:
        raise errors.LLMError(
            errors.UNAVAILABLE,
            "the LLM server sent a reply without choices",
            upstream_request_id=upstream_request_id,
        )
    choice = choices[0]
    result = LLMResult(
        api_style="chat",
        model=getattr(completion, "model", None) or "",
        response_id=getattr(completion, "id", None) or "",
        upstream_request_id=upstream_request_id,
        finish_reason=getattr(choice, "finish_reason", None),
        text=choice.message.content or "",
        usage=_usage(getattr(completion, "usage", None)),
        refusal=getattr(choice.message, "refusal", None) or None,
    )
    return refused_or(result)

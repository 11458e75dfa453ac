"""The call's inputs, checked and shaped the same way for both API styles."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from analyses.llm import errors
from analyses.llm.records import IMAGE_MIME_TYPES, ImageInput, LLMResult

ROLES = frozenset({"system", "developer", "user", "assistant"})

# Parameters a prompt version may set, by their neutral name; each style maps them to its own.
SUPPORTED_PARAMETERS = frozenset(
    {
        "temperature",
        "top_p",
        "max_output_tokens",
        "seed",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "reasoning_effort",
    }
)
SCHEMA_NAME = "output"


def messages_check(messages: Sequence[Mapping[str, Any]], images: Sequence[ImageInput]) -> None:
    """Refuse, before any network call, what no server could accept."""
    if not messages:
        raise errors.LLMError(errors.BAD_REQUEST, "at least one message is required")
    for index, message in enumerate(messages):
        if message.get("role") not in ROLES:
            raise errors.LLMError(
                errors.BAD_REQUEST,
                f"message {index}: role must be one of {', '.join(sorted(ROLES))}",
            )
        if not isinstance(message.get("content"), str):
            raise errors.LLMError(errors.BAD_REQUEST, f"message {index}: content must be text")
    for index, image in enumerate(images):
        if image.mime_type not in IMAGE_MIME_TYPES:
            raise errors.LLMError(
                errors.BAD_REQUEST,
                f"image {index}: {image.mime_type!r} is not one of {', '.join(sorted(IMAGE_MIME_TYPES))}",
            )
        if not image.data:
            raise errors.LLMError(errors.BAD_REQUEST, f"image {index} is empty")


def image_target(messages: Sequence[Mapping[str, Any]]) -> int | None:
    """Index of the message images are attached to: the last user message (None: add one)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index]["role"] == "user":
            return index
    return None


def wire_messages(
    messages: Sequence[Mapping[str, Any]],
    images: Sequence[Any],
    *,
    content_parts: Callable[[str, Sequence[Any]], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The messages as sent, images attached to the last user message (or a new one) in the
    API style's own content parts (``content_parts(text, images)``)."""
    wire: list[dict[str, Any]] = [{"role": m["role"], "content": m["content"]} for m in messages]
    if images:
        target = image_target(messages)
        if target is None:
            wire.append({"role": "user", "content": content_parts("", images)})
        else:
            wire[target]["content"] = content_parts(wire[target]["content"], images)
    return wire


def parameters_check(parameters: Mapping[str, Any], *, allowed: frozenset[str], style: str) -> None:
    unknown = sorted(set(parameters) - SUPPORTED_PARAMETERS)
    if unknown:
        raise errors.LLMError(errors.BAD_REQUEST, f"unknown parameter(s): {', '.join(unknown)}")
    unsupported = sorted(set(parameters) - allowed)
    if unsupported:
        raise errors.LLMError(
            errors.BAD_REQUEST,
            f"parameter(s) not supported by the {style} API style: {', '.join(unsupported)}",
        )


def refused_or(result: LLMResult) -> LLMResult:
    """``result``, unless the model refused or a content filter stopped it (``llm_refused``)."""
    if result.refusal:
        raise errors.LLMError(
            errors.REFUSED,
            f"the model refused: {result.refusal[:300]}",
            upstream_request_id=result.upstream_request_id,
            result=result,
        )
    if result.finish_reason == "content_filter":
        raise errors.LLMError(
            errors.REFUSED,
            "the provider's content filter stopped the reply",
            upstream_request_id=result.upstream_request_id,
            result=result,
        )
    return result

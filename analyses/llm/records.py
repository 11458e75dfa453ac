"""What goes into an LLM call and what comes out of one: plain dataclasses, no SDK types."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any

# The formats OpenAI's vision models accept; anything else is refused before a call is made.
IMAGE_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


@dataclass(frozen=True)
class ImageInput:
    """One image for a vision-capable model; it is attached to the last user message."""

    data: bytes
    mime_type: str

    def data_url(self) -> str:
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class Usage:
    """Token counts as the server reported them; a server that omits a detail reports 0."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class LLMResult:
    """One completed call, with everything the analyses app records about it.

    ``finish_reason`` uses the Chat Completions words for both API styles: ``stop``, ``length``,
    ``content_filter``, ``tool_calls`` (the Responses API's ``completed`` is ``stop`` and its
    ``incomplete``/``max_output_tokens`` is ``length``).
    """

    api_style: str
    model: str
    response_id: str
    upstream_request_id: str | None
    finish_reason: str | None
    text: str
    parsed_json: Any = None
    usage: Usage = field(default_factory=Usage)
    latency_ms: int = 0
    refusal: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for a JSONField or a log line."""
        return asdict(self)

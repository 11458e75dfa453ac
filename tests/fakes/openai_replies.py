"""Reply bodies of the fake OpenAI server: deterministic text, realistic usage, schema-true JSON."""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from dataclasses import dataclass, fields
from typing import Any

MARKER = re.compile(r"\[\[fake:(?P<body>[^\]]*)\]\]")


@dataclass
class Behaviour:
    """How the fake answers one request. Every field can be scripted in-process, through
    ``POST /_fake/script`` or with a ``[[fake:name=value,...]]`` marker in the input text."""

    status: int = 200
    error_code: str | None = None  # the body's error.code (e.g. context_length_exceeded)
    retry_after: float | str | None = None  # Retry-After header: seconds, or sent as given
    latency: float = 0.0  # seconds before the reply starts
    drip: float = 0.0  # seconds between each of ~10 slices of the body (headers go at once)
    drop: bool = False  # close the connection without a reply
    malformed: bool | str = False  # 200 with broken JSON; "html": a proxy's text/html page
    failed: str | None = None  # Responses API: status "failed" with this error code
    refusal: str | None = None
    finish_reason: str | None = None  # e.g. content_filter, length
    text: str | None = None  # the reply text instead of the derived one
    invalid_output: str | None = None  # "schema" (valid JSON, wrong shape) or "not_json"
    model: str | None = None  # the model reported as used (default: the one requested)
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Behaviour:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown fake behaviour(s): {', '.join(sorted(unknown))}")
        return cls(**values)

    @classmethod
    def from_marker(cls, text: str) -> Behaviour | None:
        match = MARKER.search(text)
        if not match:
            return None
        values: dict[str, Any] = {}
        for pair in filter(None, (p.strip() for p in match.group("body").split(","))):
            name, _, raw = pair.partition("=")
            values[name.strip()] = _coerce(raw.strip())
        return cls.from_mapping(values)


def _coerce(raw: str) -> Any:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def tokens(text: str) -> int:
    """Roughly what a tokenizer would say: four characters a token."""
    return math.ceil(len(text) / 4) if text else 0


def input_text(body: dict[str, Any]) -> str:
    """Every text the request carries, in order (chat messages or Responses input)."""
    items = body.get("messages") if "messages" in body else body.get("input")
    if isinstance(items, str):
        return items
    texts: list[str] = []
    for item in items or []:
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            texts.append(content)
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return "\n".join(texts)


def image_count(body: dict[str, Any]) -> int:
    items = body.get("messages") or body.get("input") or []
    parts = [
        p
        for i in items
        if isinstance(i, dict)
        for p in (i.get("content") or [])
        if isinstance(p, dict)
    ]
    return sum(1 for p in parts if p.get("type") in ("image_url", "input_image"))


def requested_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema asked for: chat ``response_format`` or Responses ``text.format``."""
    fmt = body.get("response_format") or (body.get("text") or {}).get("format") or {}
    if fmt.get("type") != "json_schema":
        return None
    return (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema") or {}


def sample(schema: dict[str, Any]) -> Any:
    """A value satisfying a simple schema (object, array, string, number, integer, boolean, enum)."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if schema.get(combinator):
            return sample(schema[combinator][0])
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {name: sample(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [sample(schema.get("items") or {}) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1.5, schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "example".ljust(schema.get("minLength", 0), "x")


def reply_text(body: dict[str, Any], behaviour: Behaviour) -> str:
    """What the stand-in model says: scripted, schema-true JSON, or a summary of the input."""
    if behaviour.text is not None:
        return behaviour.text
    schema = requested_schema(body)
    if behaviour.invalid_output == "not_json":
        return "Sure! Here is what you asked for: {"
    if schema is not None:
        return json.dumps([] if behaviour.invalid_output == "schema" else sample(schema))
    text = MARKER.sub("", input_text(body)).strip()
    words = len(text.split())
    first = " ".join(text.split()[:12])
    images = image_count(body)
    seen = f" and {images} image(s)" if images else ""
    return f"Local stand-in reply: I read {words} words{seen}, starting with: {first!r}."


def _new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def chat_body(body: dict[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    text = "" if behaviour.refusal else reply_text(body, behaviour)
    prompt, completion = tokens(input_text(body)), tokens(text or behaviour.refusal or "")
    return {
        "id": _new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": behaviour.model or body.get("model", "fake-model"),
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if behaviour.refusal else text,
                    "refusal": behaviour.refusal,
                },
                "logprobs": None,
                "finish_reason": behaviour.finish_reason or "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion + behaviour.reasoning_tokens,
            "total_tokens": prompt + completion + behaviour.reasoning_tokens,
            "prompt_tokens_details": {"cached_tokens": behaviour.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": behaviour.reasoning_tokens},
        },
    }


def responses_body(body: dict[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    if behaviour.refusal:
        part = {"type": "refusal", "refusal": behaviour.refusal}
        text = behaviour.refusal
    else:
        text = reply_text(body, behaviour)
        part = {"type": "output_text", "text": text, "annotations": []}
    reason = {"length": "max_output_tokens", "content_filter": "content_filter"}.get(
        behaviour.finish_reason or ""
    )
    prompt, completion = tokens(input_text(body)), tokens(text)
    status = "failed" if behaviour.failed else "incomplete" if reason else "completed"
    return {
        "id": _new_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "incomplete_details": {"reason": reason} if reason else None,
        "error": {"code": behaviour.failed, "message": "The response failed."}
        if behaviour.failed
        else None,
        "model": behaviour.model or body.get("model", "fake-model"),
        "output": [
            {
                "type": "message",
                "id": _new_id("msg_"),
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": behaviour.cached_tokens},
            "output_tokens": completion + behaviour.reasoning_tokens,
            "output_tokens_details": {"reasoning_tokens": behaviour.reasoning_tokens},
            "total_tokens": prompt + completion + behaviour.reasoning_tokens,
        },
    }


ERRORS = {
    400: ("invalid_request_error", "Invalid value for 'temperature'.", "invalid_value"),
    401: ("invalid_request_error", "Incorrect API key provided: {key}.", "invalid_api_key"),
    403: ("permission_denied", "You are not allowed to sample from this model.", None),
    404: (
        "invalid_request_error",
        "The model `{model}` does not exist or you do not have access to it.",
        "model_not_found",
    ),
    429: ("requests", "Rate limit reached for requests.", "rate_limit_exceeded"),
    500: ("server_error", "The server had an error while processing your request.", None),
    503: ("server_error", "The engine is currently overloaded, please try again later.", None),
}
CONTEXT_MESSAGE = "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens."


def error_body(behaviour: Behaviour, *, model: str, key: str) -> dict[str, Any]:
    """OpenAI's error envelope; a 401 echoes the key like some gateways do (tests scrub it)."""
    kind, message, code = ERRORS.get(behaviour.status, ("invalid_request_error", "Error.", None))
    if behaviour.error_code == "context_length_exceeded":
        message = CONTEXT_MESSAGE
    return {
        "error": {
            "message": message.format(key=key, model=model),
            "type": kind,
            "param": None,
            "code": behaviour.error_code or code,
        }
    }

"""Structured output: a prompt version's JSON Schema (Draft 2020-12) and the reply checked against it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

# Some OpenAI-compatible servers ignore response_format and fence the JSON like a chat answer.
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)


def output_schema_check(schema: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` when ``schema`` is not a valid Draft 2020-12 JSON Schema.

    For the prompts app to refuse a broken schema when a version is saved, not at call time.
    """
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        location = "/".join(str(part) for part in error.path) or "(root)"
        raise ValueError(f"invalid JSON Schema at {location}: {error.message}") from error


def reply_parse(text: str, schema: Mapping[str, Any]) -> tuple[Any, str | None]:
    """``(parsed, None)`` when ``text`` is JSON that satisfies ``schema``; else ``(None, why)``."""
    fenced = _FENCE.match(text)
    candidate = fenced.group("body") if fenced else text
    try:
        parsed = json.loads(candidate)
    except ValueError as error:
        return (
            None,
            f"the reply is not JSON ({error.msg} at line {error.lineno} column {error.colno})",
        )
    best = jsonschema.exceptions.best_match(Draft202012Validator(schema).iter_errors(parsed))
    if best is not None:
        location = "/".join(str(part) for part in best.absolute_path) or "(root)"
        return None, f"the reply does not match the output schema at {location}: {best.message}"
    return parsed, None

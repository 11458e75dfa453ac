"""Strict JSON for request bodies: what PostgreSQL's jsonb and the audit seal can store exactly.

Python's json accepts what jsonb and text columns refuse or change: NaN/Infinity, numbers that
overflow to infinity (``1e400``), NUL characters, lone UTF-16 surrogates (``"\\ud800"``), and
nesting deep enough to exhaust the stack. Each is a 422 here, before any code sees the body.
"""

import json
import math
from typing import Any

import orjson
from django.http import HttpRequest
from ninja.parser import Parser

from core.errors import InvalidInput

MAX_DEPTH = 64


def _refused(message: str, *, code: str, reason: str) -> InvalidInput:
    return InvalidInput(
        message, code=code, details=[{"field": "body", "in": "body", "reason": reason}]
    )


def _too_deep() -> InvalidInput:
    return _refused(
        f"JSON nested deeper than {MAX_DEPTH} levels is not accepted.",
        code="json_too_deep",
        reason=f"more than {MAX_DEPTH} levels",
    )


def _refuse_constant(name: str) -> None:
    raise _refused(f"{name} is not a JSON number.", code="invalid_json_number", reason=name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _refused(
            f"{text[:40]} is too large for a JSON number.",
            code="invalid_json_number",
            reason="out of range",
        )
    return value


def _check_string(text: str) -> None:
    if "\x00" in text:
        raise _refused(
            "NUL characters (\\u0000) are not accepted.", code="nul_character", reason="NUL"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refused(
            "Strings must be valid Unicode (a lone \\ud800-\\udfff surrogate is not).",
            code="invalid_unicode",
            reason="lone surrogate",
        ) from None


def check_storable(value: Any) -> None:
    """Walk the parsed body once, without recursion: depth, NUL and surrogates in keys and strings."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep()
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_string(key)
                    pending.append((child, depth + 1))
            else:
                pending.extend((child, depth + 1) for child in item)


class StrictJSONParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        # orjson refuses NaN/Infinity, numbers that overflow and lone surrogates by itself, and is
        # several times faster; whatever it refuses is parsed again by the stdlib below, which
        # says precisely what is wrong (or raises the usual malformed-JSON error).
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            body = self._parse_slowly(request)
        check_storable(body)  # NUL and depth: orjson accepts both
        return body

    def _parse_slowly(self, request: HttpRequest) -> Any:
        try:
            return json.loads(
                request.body, parse_constant=_refuse_constant, parse_float=_finite_float
            )
        except RecursionError:
            raise _too_deep() from None

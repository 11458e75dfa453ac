"""Strict JSON for request bodies: what PostgreSQL's jsonb and the audit seal can store exactly."""

import json

from django.http import HttpRequest
from ninja.parser import Parser

from audits.errors import InvalidInput


def _refuse_constant(name: str) -> None:
    raise InvalidInput(
        f"{name} is not a JSON number.",
        code="invalid_json_number",
        details=[{"field": "body", "in": "body", "reason": f"{name} is not allowed"}],
    )


class StrictJSONParser(Parser):
    """Python's json accepts NaN/Infinity and NUL characters; jsonb and text columns do not."""

    def parse_body(self, request: HttpRequest) -> dict:
        if b"\\u0000" in request.body:
            raise InvalidInput(
                "NUL characters (\\u0000) are not accepted.",
                code="nul_character",
                details=[{"field": "body", "in": "body", "reason": "contains \\u0000"}],
            )
        return json.loads(request.body, parse_constant=_refuse_constant)

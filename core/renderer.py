"""ninja's JSON renderer on orjson: the same JSON for what the API returns, faster.

Datetimes keep Django's format (``DjangoJSONEncoder``: milliseconds, ``Z`` for UTC), written here
without the encoder's chain of type checks; everything else orjson writes natively (str, numbers,
UUID, lists, dicts). Anything orjson does not know (Decimal, dates, pydantic models, URLs) goes to
ninja's encoder, and a body orjson cannot write at all (an integer beyond 64 bits, which audit
details may hold) is written by the standard library as before.
"""

import json
from datetime import datetime
from typing import Any

import orjson
from django.http import HttpRequest
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_encoder_default = NinjaJSONEncoder().default


def _default(value: Any) -> Any:
    if type(value) is datetime:  # as DjangoJSONEncoder writes it
        text = value.isoformat()
        if value.microsecond:
            text = text[:23] + text[26:]
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return _encoder_default(value)


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        try:
            return orjson.dumps(data, default=_default, option=_OPTIONS)
        except TypeError:
            return json.dumps(data, cls=NinjaJSONEncoder)

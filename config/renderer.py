"""ninja's JSON renderer on orjson: the same JSON for what the API returns, several times faster.

Dates and times are passed back to ninja's encoder so they keep Django's format (milliseconds,
``Z`` for UTC) byte for byte; everything else orjson writes natively (str, numbers, UUID, lists,
dicts). Anything orjson does not know (Decimal, pydantic models, URLs) goes to the same encoder, and a
body orjson cannot write at all (an integer beyond 64 bits, which audit details may hold) is
written by the standard library as before.
"""

import json
from typing import Any

import orjson
from django.http import HttpRequest
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def __init__(self) -> None:
        self._default = NinjaJSONEncoder().default

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        try:
            return orjson.dumps(data, default=self._default, option=_OPTIONS)
        except TypeError:
            return json.dumps(data, cls=NinjaJSONEncoder)

"""Responses rendered ahead of time: a document kept as bytes (``core.document_cache``) is sent as
it is, and its bytes are exactly what ninja would have rendered from the same schema."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema

from core.renderer import OrjsonRenderer

RENDERER = OrjsonRenderer()  # the API's own renderer (config/api.py)
JSON_CONTENT_TYPE = f"{RENDERER.media_type}; charset={RENDERER.charset}"


def json_rendered(request: HttpRequest, schema: type[Schema], value: Any, *, status: int) -> bytes:
    """``value`` (a model or a dict) validated by ``schema`` and rendered as ninja renders it."""
    data = schema.model_validate(value).model_dump(
        context={"request": request, "response_status": status}
    )
    return RENDERER.render(request, data, response_status=status)


def json_response(body: bytes, *, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type=JSON_CONTENT_TYPE)

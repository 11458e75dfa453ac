"""The one list shape: ``{"items", "count", "page", "page_size"}``; page_size 20 by default, 50 at most.

Set as NINJA_PAGINATION_CLASS, so every app paginates with plain ``@paginate`` from ninja.
A page_size above 50 is a 422, not silently clipped; a page past the end is an empty ``items``.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50


class PagePagination(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict:
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "items": list(queryset[offset : offset + pagination.page_size]),
            "count": queryset.count() if isinstance(queryset, QuerySet) else len(queryset),
            "page": pagination.page,
            "page_size": pagination.page_size,
        }

"""The one list shape: ``{"items", "count", "page", "page_size"}``; page_size 20 by default, 50 at most.

Set as NINJA_PAGINATION_CLASS, so every app paginates with plain ``@paginate`` from ninja.
A page_size above 50 is a 422, not silently clipped; a page past the end is an empty ``items``.

Two things keep large tables fast (docs/performance.md):
- a page shorter than page_size is the last one, so its count needs no query; otherwise counts are
  exact up to ``COUNT_EXACT_UP_TO`` rows, and above that the exact count is computed once and
  cached for ``COUNT_CACHE_SECONDS`` (a big, busy list may show a count a few seconds old);
- a queryset ordered by one unique field is paged as a "deferred join": the page's keys come from
  an index alone (an index-only scan of e.g. ``(action, sequence)``), then its rows by key. Deep
  pages skip the heap, and page 1 cannot be planned as a backward walk of the whole table that
  filters row by row (what PostgreSQL picks when the newest rows rarely match the filter).

A view may return a ``core.compiled_pages.KeyedQuerySet`` instead of a queryset (the audit trail
does): each of its pages is then compiled once per process and its count's cache key kept beside
it, so a repeated page costs its one statement and no ORM work.
"""

import hashlib
from collections.abc import Callable
from typing import Any

import structlog
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from core.compiled_pages import KeyedQuerySet, compiled_page

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
COUNT_EXACT_UP_TO = 1000
COUNT_CACHE_SECONDS = 30

logger = structlog.get_logger("parecer.pagination")


def _cache_call(method: str, *args: Any) -> Any:
    try:
        return getattr(cache, method)(*args)
    except Exception as exc:  # a cache outage costs time, not the answer
        logger.warning("count_cache_unavailable", error=str(exc)[:200])
        return None


def _count_key(queryset: QuerySet) -> str | None:
    """The cache key of the queryset's count; None when its filters can match nothing."""
    try:
        # SQL and parameters apart: str(query) inlines values unquoted, so two filters could collide.
        statement = repr(queryset.query.sql_with_params())
    except EmptyResultSet:
        return None
    return "count:" + hashlib.sha256(statement.encode()).hexdigest()


def _count(
    *,
    key: Callable[[], str | None],
    queryset: Callable[[], QuerySet],
    offset: int,
    page_length: int,
    page_size: int,
) -> int:
    if 0 < page_length < page_size or (offset == 0 and page_length == 0):
        return offset + page_length  # this is the last page: the count is exact and free
    cache_key = key()
    if cache_key is None:
        return 0
    cached = _cache_call("get", cache_key)
    if cached is not None:  # only counts above COUNT_EXACT_UP_TO are ever cached
        return max(cached, offset + page_length)  # never fewer than the rows this page shows
    counted = queryset()
    capped = counted[: COUNT_EXACT_UP_TO + 1].count()
    if capped <= COUNT_EXACT_UP_TO:
        return capped
    exact = counted.count()
    _cache_call("set", cache_key, exact, COUNT_CACHE_SECONDS)
    return exact


def _unique_order_field(queryset: QuerySet) -> str | None:
    order = queryset.query.order_by
    if len(order) != 1:
        return None
    if not isinstance(order[0], str):  # an expression: page by offset
        return None
    name = order[0].lstrip("-")
    try:
        field = queryset.model._meta.get_field(name)
    except Exception:
        return None
    return name if (field.unique or field.primary_key) else None


def _page_queryset(queryset: QuerySet, offset: int, size: int) -> QuerySet:
    key_field = _unique_order_field(queryset)
    if key_field is None:
        return queryset[offset : offset + size]
    # One statement: the page's keys in a subquery, then its rows by key.
    keys = queryset.values_list(key_field, flat=True)[offset : offset + size]
    return queryset.filter(**{f"{key_field}__in": keys})


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
        self,
        queryset: QuerySet | KeyedQuerySet,
        pagination: Input,
        request: HttpRequest,
        **params: Any,
    ) -> dict:
        offset, size = (pagination.page - 1) * pagination.page_size, pagination.page_size
        if isinstance(queryset, KeyedQuerySet):
            page, count_key = compiled_page(
                (queryset.key, offset, size),
                page=lambda: _page_queryset(queryset.build(), offset, size),
                extra=lambda: _count_key(queryset.build()),
            )
            items = page.rows()
            count = _count(
                key=lambda: count_key,
                queryset=queryset.build,
                offset=offset,
                page_length=len(items),
                page_size=size,
            )
        elif isinstance(queryset, QuerySet):
            items = list(_page_queryset(queryset, offset, size))
            count = _count(
                key=lambda: _count_key(queryset),
                queryset=lambda: queryset,
                offset=offset,
                page_length=len(items),
                page_size=size,
            )
        else:
            items, count = list(queryset[offset : offset + size]), len(queryset)
        return {
            "items": items,
            "count": count,
            "page": pagination.page,
            "page_size": pagination.page_size,
        }

"""Pages of a hot list compiled to SQL once per process, then read with a plain cursor.

The ORM builds and compiles a list's page query anew on every request: for the audit trail's
page 1 that was more of the request's time than PostgreSQL's answer (docs/performance.md). A
selector whose SQL depends on nothing but known values opts in by returning a ``KeyedQuerySet``:
those values as ``key``, and a function that builds the queryset. The paginator then compiles
each (key, page) once, keeps the statement in a bounded per-process LRU, and from then on runs
it with a cursor, turning the rows into model instances through the ORM's own converters.

Only the SQL is reused, never rows: every request reads PostgreSQL. The key must hold every value
the queryset's SQL is built from, the caller's visibility scope included; a value left out would
serve one caller's statement to another. Never opt in a queryset that reads the clock, a setting
or the database while it is built.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable

from core.rows import model_from_row

PAGES_KEPT = 512  # per process; an entry is one statement of about 2 KB


@dataclass(frozen=True, slots=True)
class KeyedQuerySet:
    """A list whose SQL is a function of ``key`` alone; ``build`` makes its queryset."""

    key: Hashable
    build: Callable[[], QuerySet]


@dataclass(frozen=True, slots=True)
class CompiledPage:
    model: type[Model]
    using: str
    sql: str | None  # None: the filters match nothing
    params: tuple

    def rows(self) -> list[Model]:
        if self.sql is None:
            return []
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, self.params)
            rows = cursor.fetchall()
        return [model_from_row(self.model, row, using=self.using) for row in rows]


_pages: OrderedDict[Hashable, tuple[CompiledPage, object]] = OrderedDict()
_pages_lock = threading.Lock()


def compiled_page[T](
    key: Hashable, *, page: Callable[[], QuerySet], extra: Callable[[], T]
) -> tuple[CompiledPage, T]:
    """The page statement for ``key``, compiled from ``page()`` the first time; ``extra()`` is kept
    beside it (the paginator keeps the count's cache key)."""
    with _pages_lock:
        entry = _pages.get(key)
        if entry is not None:
            _pages.move_to_end(key)
            return entry  # type: ignore[return-value]
    entry = (_compile(page()), extra())
    with _pages_lock:
        _pages[key] = entry
        while len(_pages) > PAGES_KEPT:
            _pages.popitem(last=False)
    return entry


def _compile(queryset: QuerySet) -> CompiledPage:
    model, using = queryset.model, queryset.db
    if queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups:
        raise ImproperlyConfigured(
            f"a KeyedQuerySet of {model.__name__} must yield model instances, with nothing "
            "prefetched (no values(), values_list() or prefetch_related())"
        )
    compiler = queryset.query.get_compiler(using=using)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return CompiledPage(model=model, using=using, sql=None, params=())
    selected = [getattr(expression, "target", None) for expression, _, _ in compiler.select]
    related = (compiler.klass_info or {}).get("related_klass_infos")
    if related or selected != list(model._meta.concrete_fields):
        raise ImproperlyConfigured(
            f"a KeyedQuerySet of {model.__name__} must select exactly its concrete columns "
            "(no select_related, annotations, only() or defer())"
        )
    return CompiledPage(model=model, using=using, sql=sql, params=tuple(params))

"""The shared cache of label resolutions: (slug, label) -> the resolved version, as a snapshot.

The snapshot is plain values (the version's and prompt's columns, the prompt's labels, its latest
number, the author's e-mail), not a pickled model graph: loading it is the only work a cached
resolve adds to a request, and plain values load several times faster than model instances with
their prefetched relations. ``GET /prompts/{slug}`` by label keeps its whole rendered response
beside it. Both follow ``core.document_cache``: versions never change; label moves, new versions,
metadata edits, archive and restore mark every entry of the prompt changed, inside their
transaction and again on commit, and a read that began before cannot put an old entry back. Both
are off without a cache every process shares (``DOCUMENT_CACHE``): resolutions then read the
database.
"""

import re

from django.db import transaction
from django.http import HttpRequest

from core import document_cache
from prompts.models import LABEL_PATTERN, LATEST, SLUG_PATTERN, Prompt, PromptLabel, PromptVersion

PREFIX = "prompts:resolve:v2:"
DOCUMENT_PREFIX = "prompts:document:v1:"
# Backstop only (writes mark the keys): bounds what a cache outage during a write leaves.
SECONDS = 300
DEFAULT_LABEL_KEY = "@default"  # neither label nor version: production, else latest
_VERSION_COLUMNS = [field.attname for field in PromptVersion._meta.concrete_fields]
_PROMPT_COLUMNS = [field.attname for field in Prompt._meta.concrete_fields]


def _key(slug: str, label: str | None) -> str:
    return f"{PREFIX}{slug}:{DEFAULT_LABEL_KEY if label is None else label}"


def _document_key(slug: str, label: str | None) -> str:
    return f"{DOCUMENT_PREFIX}{slug}:{DEFAULT_LABEL_KEY if label is None else label}"


def resolve_document_key(request: HttpRequest) -> str | None:
    """The key ``GET /prompts/{slug}`` reads, for its authentication to prefetch (``api_auth``)."""
    slug = getattr(request.resolver_match, "kwargs", {}).get("slug", "")
    label = request.GET.get("label")
    if "version" in request.GET or not re.match(SLUG_PATTERN, slug):
        return None
    if label is not None and not re.match(LABEL_PATTERN, label):
        return None
    return _document_key(slug, label)


def resolve_document_cached(
    *, slug: str, label: str | None, request: HttpRequest | None = None
) -> bytes | None:
    """The rendered ``GET /prompts/{slug}`` of a non-archived prompt by label, or None."""
    return document_cache.document_for(request, _document_key(slug, label))


def resolve_document_fill(*, slug: str, label: str | None, body: bytes, started: float) -> None:
    document_cache.document_fill(_document_key(slug, label), body, started=started, seconds=SECONDS)


def _snapshot(version: PromptVersion) -> dict:
    from prompts.selectors import labels_of

    prompt = version.prompt
    return {
        "version": [getattr(version, column) for column in _VERSION_COLUMNS],
        "prompt": [getattr(prompt, column) for column in _PROMPT_COLUMNS],
        "labels": labels_of(prompt),
        "latest": getattr(prompt, "latest_number", None),
        "author": version.author.email if version.author_id and version.author else None,
    }


def _restore(snapshot: dict) -> PromptVersion:
    prompt = Prompt.from_db("default", _PROMPT_COLUMNS, snapshot["prompt"])
    prompt.latest_number = snapshot["latest"]
    prompt.label_numbers = snapshot["labels"]
    version = PromptVersion.from_db("default", _VERSION_COLUMNS, snapshot["version"])
    version.prompt = prompt
    version.author_email = snapshot["author"]
    return version


def resolve_cache_get(*, slug: str, label: str | None) -> PromptVersion | None:
    """The cached resolution, or None (also when the cache is down: reads fall back to the DB)."""
    snapshot = document_cache.document_cached(_key(slug, label))
    return None if snapshot is None else _restore(snapshot)


def resolve_cache_set(
    *, slug: str, label: str | None, version: PromptVersion, started: float
) -> None:
    """Keep a resolution read from the database since ``started`` (unless a write marked it)."""
    document_cache.document_fill(
        _key(slug, label), _snapshot(version), started=started, seconds=SECONDS
    )


def resolve_cache_forget(*, slug: str, labels: set[str] | frozenset[str] = frozenset()) -> None:
    """Mark every cached resolution of a prompt changed (the default, ``latest`` and each label),
    and their rendered responses: no read that began before can put one back."""
    names = {DEFAULT_LABEL_KEY, LATEST, *labels}
    names |= set(PromptLabel.objects.filter(prompt__slug=slug).values_list("name", flat=True))
    document_cache.documents_mark_changed(
        [_key(slug, name) for name in names] + [_document_key(slug, name) for name in names]
    )


def resolve_cache_forget_around_commit(
    *, slug: str, labels: set[str] | frozenset[str] = frozenset()
) -> None:
    """Inside a write's transaction: drop the prompt's cached resolutions now and again on commit.

    Now, so this transaction's own later reads miss the cache; on commit, because a concurrent
    reader may have cached the old rows in between. After commit, every process reads the new rows.
    """
    resolve_cache_forget(slug=slug, labels=labels)
    transaction.on_commit(lambda: resolve_cache_forget(slug=slug, labels=labels))

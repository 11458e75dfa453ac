"""Reads of the prompts domain: lists, resolution by label or number, label history, diffs.

Resolving by label is the hot path of every analysis, so ``prompt_version_resolve`` keeps the
resolved version (with its prompt and the prompt's labels) in the shared cache, keyed by
(slug, label). Versions never change; what changes is where a label points, the prompt's
metadata and whether it is archived, and every service that changes one of those marks all of
the prompt's cached resolutions changed around its commit (``prompts.resolve_cache``).
"""

import difflib

from django.db.models import Max, Prefetch, Q, QuerySet

from core import document_cache
from core.errors import Conflict, InvalidInput, NotFound
from core.permissions import is_staff_member
from prompts.models import (
    LATEST,
    PRODUCTION,
    Prompt,
    PromptLabel,
    PromptLabelMove,
    PromptVersion,
)
from prompts.resolve_cache import resolve_cache_get, resolve_cache_set


def prompt_list(
    *, actor, q: str = "", tag: str = "", label: str = "", include_archived: bool = False
) -> QuerySet[Prompt]:
    """Prompts the actor may see, filtered; archived ones only for staff who ask for them."""
    prompts = Prompt.objects.all().prefetch_related(_labels_prefetch())
    if not (include_archived and is_staff_member(actor)):
        prompts = prompts.filter(archived_at__isnull=True)
    if q:
        prompts = prompts.filter(
            Q(slug__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q)
        )
    if tag:
        prompts = (
            prompts.filter(tags__contains=[tag])
            if _json_contains()
            else prompts.filter(tags__icontains=f'"{tag}"')
        )
    if label:
        prompts = prompts.filter(labels__name=label)
    return prompts.annotate(latest_number=Max("versions__number")).order_by("slug")


def _json_contains() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def _labels_prefetch() -> Prefetch:
    return Prefetch(
        "labels", queryset=PromptLabel.objects.select_related("version").order_by("name")
    )


def prompt_get(*, slug: str, include_archived: bool = True) -> Prompt:
    """One prompt by slug (404 ``prompt_not_found``), with its labels."""
    prompt = (
        Prompt.objects.prefetch_related(_labels_prefetch())
        .annotate(latest_number=Max("versions__number"))
        .filter(slug=slug)
        .first()
    )
    if prompt is None:
        raise NotFound(f"No prompt '{slug}'.", code="prompt_not_found")
    if prompt.archived_at is not None and not include_archived:
        raise Conflict(f"Prompt '{slug}' is archived.", code="prompt_archived")
    return prompt


def prompt_get_for(*, actor, slug: str) -> Prompt:
    """The prompt as ``actor`` may reach it: staff see archived ones, others get 409."""
    return prompt_get(slug=slug, include_archived=is_staff_member(actor))


def _versions() -> QuerySet[PromptVersion]:
    return PromptVersion.objects.select_related("prompt", "author").prefetch_related(
        Prefetch(
            "prompt__labels",
            queryset=PromptLabel.objects.select_related("version").order_by("name"),
        )
    )


def _with_latest(version: PromptVersion) -> PromptVersion:
    # Carried with the cached version so a resolve answers "latest_version" without a query.
    version.prompt.latest_number = version.prompt.versions.aggregate(top=Max("number"))["top"]
    return version


def _resolve_uncached(*, slug: str, label: str | None) -> PromptVersion:
    return _with_latest(_resolve_row(slug=slug, label=label))


def _resolve_row(*, slug: str, label: str | None) -> PromptVersion:
    prompt = Prompt.objects.filter(slug=slug).only("id").first()
    if prompt is None:
        raise NotFound(f"No prompt '{slug}'.", code="prompt_not_found")
    if label is None or label == PRODUCTION:
        row = PromptLabel.objects.filter(prompt=prompt, name=PRODUCTION).only("version_id").first()
        if row is not None:
            return _versions().get(pk=row.version_id)
        if label == PRODUCTION:
            raise NotFound(f"Prompt '{slug}' has no label 'production'.", code="label_not_found")
    elif label != LATEST:
        row = PromptLabel.objects.filter(prompt=prompt, name=label).only("version_id").first()
        if row is None:
            raise NotFound(f"Prompt '{slug}' has no label '{label}'.", code="label_not_found")
        return _versions().get(pk=row.version_id)
    latest = _versions().filter(prompt=prompt).order_by("-number").first()
    if latest is None:
        raise NotFound(f"Prompt '{slug}' has no versions.", code="version_not_found")
    return latest


def prompt_version_resolve(
    *,
    slug: str,
    label: str | None = None,
    version: int | None = None,
    include_archived: bool = False,
) -> PromptVersion:
    """The version a client means: by ``label``, by ``version`` number, or production else latest.

    404 ``prompt_not_found`` / ``label_not_found`` / ``version_not_found``; 409 ``prompt_archived``
    unless ``include_archived``. Label resolutions come from the cache when they can.
    """
    if label is not None and version is not None:
        raise InvalidInput(
            "Give a label or a version, not both.",
            code="label_and_version",
            details=[
                {
                    "field": "version",
                    "in": "query",
                    "reason": "exclusive with label",
                    "type": "exclusive",
                }
            ],
        )
    if version is not None:
        found = _versions().filter(prompt__slug=slug, number=version).first()
        if found is None:
            if not Prompt.objects.filter(slug=slug).exists():
                raise NotFound(f"No prompt '{slug}'.", code="prompt_not_found")
            raise NotFound(f"Prompt '{slug}' has no version {version}.", code="version_not_found")
        _with_latest(found)
    else:
        found = resolve_cache_get(slug=slug, label=label)
        if found is None:
            started = document_cache.read_started()
            found = _resolve_uncached(slug=slug, label=label)
            resolve_cache_set(slug=slug, label=label, version=found, started=started)
    if found.prompt.archived_at is not None and not include_archived:
        raise Conflict(f"Prompt '{slug}' is archived.", code="prompt_archived")
    return found


def prompt_version_list(*, prompt: Prompt) -> QuerySet[PromptVersion]:
    """A prompt's versions, newest first."""
    return PromptVersion.objects.filter(prompt=prompt).select_related("author").order_by("-number")


def prompt_version_get(*, prompt: Prompt, number: int) -> PromptVersion:
    """One version by number (404 ``version_not_found``)."""
    found = (
        PromptVersion.objects.filter(prompt=prompt, number=number).select_related("author").first()
    )
    if found is None:
        raise NotFound(f"Prompt '{prompt.slug}' has no version {number}.", code="version_not_found")
    return found


def label_history(*, prompt: Prompt, label: str) -> QuerySet[PromptLabelMove]:
    """Every move of one label of a prompt, newest first (who, when, from, to, note)."""
    return PromptLabelMove.objects.filter(prompt=prompt, label=label).order_by("-created_at", "-id")


def labels_of(prompt: Prompt) -> dict[str, int]:
    """Label name -> version number (from the cache snapshot or the prefetched labels)."""
    if "label_numbers" in prompt.__dict__:
        return prompt.label_numbers
    return {label.name: label.version.number for label in prompt.labels.all()}


def _message_texts(version: PromptVersion) -> list[tuple[str, str]]:
    if version.kind == "text":
        return [("template", version.template)]
    return [(f"messages[{i}] ({m['role']})", m["content"]) for i, m in enumerate(version.messages)]


def prompt_version_diff(*, a: PromptVersion, b: PromptVersion) -> dict:
    """A unified diff per message (by position) and every changed setting, from ``a`` to ``b``."""
    old, new = _message_texts(a), _message_texts(b)
    messages = []
    for index in range(max(len(old), len(new))):
        old_name, old_text = old[index] if index < len(old) else ("(none)", "")
        new_name, new_text = new[index] if index < len(new) else ("(none)", "")
        diff = "".join(
            difflib.unified_diff(
                old_text.splitlines(keepends=True),
                new_text.splitlines(keepends=True),
                fromfile=f"v{a.number} {old_name}",
                tofile=f"v{b.number} {new_name}",
            )
        )
        messages.append(
            {
                "index": index,
                "changed": old[index : index + 1] != new[index : index + 1],
                "diff": diff,
            }
        )
    changes = {}
    for field in ("kind", "model", "api_style", "variables_schema", "output_schema"):
        if getattr(a, field) != getattr(b, field):
            changes[field] = {"from": getattr(a, field), "to": getattr(b, field)}
    for name in sorted(set(a.parameters) | set(b.parameters)):
        if a.parameters.get(name) != b.parameters.get(name):
            changes[f"parameters.{name}"] = {
                "from": a.parameters.get(name),
                "to": b.parameters.get(name),
            }
    return {
        "from_version": a.number,
        "to_version": b.number,
        "messages": messages,
        "changes": changes,
    }

"""Creating a prompt (with its first version), changing its metadata, archiving and restoring it."""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.services import audit_event_record, changes_between
from core.errors import Conflict, InvalidInput
from prompts.models import SLUG_PATTERN, Prompt
from prompts.resolve_cache import resolve_cache_forget_around_commit
from prompts.services.versions import version_content_validate, version_labels_check, version_save

TAG_PATTERN = r"^[a-z0-9_.-]{1,40}$"
MAX_TAGS = 20


def _tags_check(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS or not all(
        isinstance(t, str) and re.fullmatch(TAG_PATTERN, t) for t in tags
    ):
        raise InvalidInput(
            f"tags: at most {MAX_TAGS}, each matching [a-z0-9_.-]{{1,40}}.",
            details=[{"field": "tags", "in": "body", "reason": "invalid tag", "type": "pattern"}],
        )
    return sorted(set(tags))


def prompt_create(
    *,
    slug: str,
    name: str,
    actor,
    description: str = "",
    tags: list[str] | None = None,
    version: dict,
    labels: list[str] | tuple[str, ...] = (),
) -> Prompt:
    """A new prompt with its first version (``version`` holds the content fields) and labels."""
    if not re.fullmatch(SLUG_PATTERN, slug or ""):
        raise InvalidInput(
            "slug must match [a-z0-9-]{1,64}.",
            code="slug_invalid",
            details=[
                {
                    "field": "slug",
                    "in": "body",
                    "reason": "must match [a-z0-9-]{1,64}",
                    "type": "pattern",
                }
            ],
        )
    tags = _tags_check(tags or [])
    content = dict(version)
    note = content.pop("note", "")
    content.setdefault("messages", [])
    content.setdefault("template", "")
    content.setdefault("variables_schema", {"type": "object", "properties": {}})
    content.setdefault("model", "")
    content.setdefault("parameters", {})
    content.setdefault("output_schema", None)
    content.setdefault("api_style", "")
    content.setdefault("kind", "chat")
    content = version_content_validate(**content)
    version_labels_check(labels=labels, author=actor)
    try:
        with transaction.atomic():
            prompt = Prompt.objects.create(
                slug=slug, name=name, description=description, tags=tags, created_by=actor
            )
            first, moves = version_save(
                prompt=prompt, author=actor, content=content, note=note, labels=labels
            )
            # One event for the whole creation: the prompt, its first version and its labels.
            audit_event_record(
                action="prompt.created",
                entity_type="prompt",
                entity_id=prompt.pk,
                details={
                    "slug": slug,
                    "name": name,
                    "tags": tags,
                    "version": first.number,
                    "content_sha256": first.content_hash,
                    "label_moves": moves,
                },
            )
    except IntegrityError as exc:  # a concurrent create of the same slug won
        raise Conflict(f"A prompt '{slug}' already exists.", code="slug_taken") from exc
    return prompt


def prompt_create_checked(**kwargs) -> Prompt:
    """``prompt_create`` that answers 409 for a taken slug before doing any work."""
    if Prompt.objects.filter(slug=kwargs.get("slug")).exists():
        raise Conflict(f"A prompt '{kwargs.get('slug')}' already exists.", code="slug_taken")
    return prompt_create(**kwargs)


def prompt_update(
    *,
    prompt: Prompt,
    actor,
    name: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
) -> Prompt:
    """Change a prompt's metadata (never its versions); audited with what changed."""
    with transaction.atomic():
        locked = Prompt.objects.select_for_update(no_key=True).get(pk=prompt.pk)
        before = {"name": locked.name, "description": locked.description, "tags": locked.tags}
        if name is not None:
            locked.name = name
        if description is not None:
            locked.description = description
        if tags is not None:
            locked.tags = _tags_check(tags)
        after = {"name": locked.name, "description": locked.description, "tags": locked.tags}
        changes = changes_between(before, after)
        if changes:
            locked.save(update_fields=["name", "description", "tags", "updated_at"])
            audit_event_record(
                action="prompt.updated",
                entity_type="prompt",
                entity_id=locked.pk,
                details={"slug": locked.slug, "changes": changes},
            )
            resolve_cache_forget_around_commit(slug=locked.slug)
    return locked


def _archived_set(*, prompt: Prompt, archived: bool) -> Prompt:
    with transaction.atomic():
        locked = Prompt.objects.select_for_update(no_key=True).get(pk=prompt.pk)
        if (locked.archived_at is not None) == archived:
            return locked  # already in that state: nothing to record
        locked.archived_at = timezone.now() if archived else None
        locked.save(update_fields=["archived_at", "updated_at"])
        audit_event_record(
            action="prompt.archived" if archived else "prompt.restored",
            entity_type="prompt",
            entity_id=locked.pk,
            details={"slug": locked.slug},
        )
        resolve_cache_forget_around_commit(slug=locked.slug)
    return locked


def prompt_archive(*, prompt: Prompt, actor) -> Prompt:
    """Archive a prompt: it stays readable by staff but resolves to 409 ``prompt_archived``."""
    return _archived_set(prompt=prompt, archived=True)


def prompt_restore(*, prompt: Prompt, actor) -> Prompt:
    """Undo ``prompt_archive``."""
    return _archived_set(prompt=prompt, archived=False)

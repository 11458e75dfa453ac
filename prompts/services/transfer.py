"""Prompts as code: a stable JSON document of prompts, versions and labels, and its idempotent import.

The document is diff-friendly (sorted keys, versions in order, two-space indent) so a team can
keep it in git and promote prompts between environments. Import never overwrites: a version
whose content hash the prompt already has is recognised and reused, anything else becomes the
prompt's next version, and labels are moved to the versions the document names.
"""

from typing import Any

from django.db import transaction
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from core.errors import InvalidInput
from prompts.models import SLUG_PATTERN, Prompt, PromptVersion, content_hash
from prompts.selectors import labels_of
from prompts.services.labels import prompt_label_move
from prompts.services.prompts import MAX_TAGS, prompt_create, prompt_update
from prompts.services.versions import prompt_version_create

FORMAT = "parecer.prompts/1"
VERSION_FIELDS = (
    "kind",
    "messages",
    "template",
    "variables_schema",
    "model",
    "parameters",
    "output_schema",
    "api_style",
    "note",
)


def prompts_export_document(*, slugs: list[str] | None = None) -> dict:
    """The export document for the given prompts (all when ``slugs`` is empty), archived included."""
    prompts = Prompt.objects.prefetch_related("labels__version").order_by("slug")
    if slugs:
        prompts = prompts.filter(slug__in=slugs)
    return {
        "format": FORMAT,
        "prompts": [
            {
                "slug": prompt.slug,
                "name": prompt.name,
                "description": prompt.description,
                "tags": prompt.tags,
                "archived": prompt.archived_at is not None,
                "labels": dict(sorted(labels_of(prompt).items())),
                "versions": [
                    {
                        "number": v.number,
                        "content_hash": v.content_hash,
                        **{f: getattr(v, f) for f in VERSION_FIELDS},
                    }
                    for v in PromptVersion.objects.filter(prompt=prompt).order_by("number")
                ],
            }
            for prompt in prompts
        ],
    }


# The document's shape, checked before anything is read from it (and published as the import's
# request schema): every field typed, nothing unknown. A version's content is then checked as
# any version's is (prompts/services/versions.py).
_VERSION_SCHEMA = {
    "type": "object",
    "properties": {
        "number": {"type": "integer", "minimum": 1, "maximum": 2_147_483_647},
        "content_hash": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
        "kind": {"type": "string"},
        "messages": {"type": "array", "items": {"type": "object"}},
        "template": {"type": "string"},
        "variables_schema": {"type": "object"},
        "model": {"type": "string", "maxLength": 100},
        "parameters": {"type": "object"},
        "output_schema": {"type": ["object", "null"]},
        "api_style": {"type": "string"},
        "note": {"type": "string", "maxLength": 2000},
    },
    "required": ["number"],
    "additionalProperties": False,
}
PROMPT_ENTRY_SCHEMA = {
    "type": "object",
    "properties": {
        "slug": {"type": "string", "pattern": SLUG_PATTERN},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 5000},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_TAGS},
        "archived": {"type": "boolean", "description": "Written by export; import ignores it."},
        "labels": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1},
            "description": "Label name -> the document's version number.",
        },
        "versions": {"type": "array", "items": _VERSION_SCHEMA, "maxItems": 1000},
    },
    "required": ["slug"],
    "additionalProperties": False,
}
_DOCUMENT_VALIDATOR = Draft202012Validator(
    {
        "type": "object",
        "properties": {
            "format": {"const": FORMAT},
            "prompts": {"type": "array", "items": PROMPT_ENTRY_SCHEMA},
        },
        "required": ["format", "prompts"],
        "additionalProperties": False,
    }
)


def _where(path) -> str:
    """``prompts[0].versions[1].number`` for the JSON path (prompts, 0, versions, 1, number)."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
    return where.removeprefix(".")


def _invalid_document(message: str, *, field: str, reason: str, kind: str) -> InvalidInput:
    return InvalidInput(
        message,
        code="import_invalid",
        details=[{"field": field, "in": "body", "reason": reason, "type": kind}],
    )


def _document_check(document: Any) -> list[dict]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _invalid_document(
            f"Not a prompts document (expected format '{FORMAT}').",
            field="format",
            reason=f"must be '{FORMAT}'",
            kind="format",
        )
    error = best_match(_DOCUMENT_VALIDATOR.iter_errors(document))
    if error is not None:
        where = _where(error.absolute_path) or "document"
        reason = error.message[:300]
        raise _invalid_document(
            f"{where}: {reason}", field=where, reason=reason, kind=error.validator
        )
    for index, entry in enumerate(document["prompts"]):
        numbers = [version["number"] for version in entry.get("versions", [])]
        if len(set(numbers)) != len(numbers):
            raise _invalid_document(
                f"prompts[{index}]: version numbers repeat.",
                field=f"prompts[{index}].versions",
                reason="each version's number must be unique",
                kind="unique",
            )
        for version in entry.get("versions", []):
            stated = version.get("content_hash")
            if stated and stated != content_hash(_version_kwargs(version)):
                raise _invalid_document(
                    f"prompts[{index}] version {version['number']}: content_hash does not match its content.",
                    field=f"prompts[{index}].versions",
                    reason="content_hash mismatch",
                    kind="hash",
                )
    return document["prompts"]


def prompts_import_document(*, document: Any, actor, dry_run: bool = False) -> list[dict]:
    """Apply a document; returns the changes (what it would change when ``dry_run``).

    All or nothing: one invalid version rolls the whole import back. A dry run does the same
    work in a transaction that is rolled back, so its report is exactly what a real run does.
    """
    entries = _document_check(document)
    changes: list[dict] = []
    with transaction.atomic():
        for entry in entries:
            changes.extend(_import_prompt(entry=entry, actor=actor))
        if dry_run:
            transaction.set_rollback(True)
    return changes


_DEFAULTS = {
    "kind": "chat",
    "messages": [],
    "template": "",
    "variables_schema": {"type": "object", "properties": {}},
    "model": "",
    "parameters": {},
    "output_schema": None,
    "api_style": "",
    "note": "",
}


def _version_kwargs(version: dict) -> dict:
    return {field: version.get(field, _DEFAULTS[field]) for field in VERSION_FIELDS}


def _import_prompt(*, entry: dict, actor) -> list[dict]:
    slug = entry["slug"]
    versions = sorted(entry.get("versions", []), key=lambda v: v["number"])
    changes: list[dict] = []
    prompt = Prompt.objects.filter(slug=slug).first()
    number_map: dict[int, int] = {}
    if prompt is None:
        if not versions:
            raise InvalidInput(f"Prompt '{slug}' has no versions.", code="import_invalid")
        first = versions.pop(0)
        prompt = prompt_create(
            slug=slug,
            name=entry.get("name") or slug,
            description=entry.get("description", ""),
            tags=entry.get("tags", []),
            actor=actor,
            version=_version_kwargs(first),
        )
        number_map[first["number"]] = 1
        changes.append({"slug": slug, "action": "prompt_created", "version": 1})
    else:
        updated = prompt_update(
            prompt=prompt,
            actor=actor,
            name=entry.get("name"),
            description=entry.get("description"),
            tags=entry.get("tags"),
        )
        if (updated.name, updated.description, updated.tags) != (
            prompt.name,
            prompt.description,
            prompt.tags,
        ):
            changes.append({"slug": slug, "action": "prompt_updated"})
        prompt = updated
    known = dict(PromptVersion.objects.filter(prompt=prompt).values_list("content_hash", "number"))
    for version in versions:
        digest = content_hash(_version_kwargs(version))
        if digest in known:  # identical content: recognised, never duplicated
            number_map[version["number"]] = known[digest]
            continue
        created = prompt_version_create(prompt=prompt, author=actor, **_version_kwargs(version))
        known[created.content_hash] = created.number
        number_map[version["number"]] = created.number
        changes.append(
            {
                "slug": slug,
                "action": "version_created",
                "version": created.number,
                "content_hash": created.content_hash,
            }
        )
    current = labels_of(Prompt.objects.prefetch_related("labels__version").get(pk=prompt.pk))
    for label, number in sorted(entry.get("labels", {}).items()):
        target = number_map.get(number)
        if target is None:
            raise InvalidInput(
                f"Prompt '{slug}': label '{label}' names version {number}, which the document lacks.",
                code="import_invalid",
            )
        if current.get(label) != target:
            prompt_label_move(
                prompt=prompt, label=label, version=target, actor=actor, note="import"
            )
            changes.append(
                {
                    "slug": slug,
                    "action": "label_moved",
                    "label": label,
                    "from_version": current.get(label),
                    "to_version": target,
                }
            )
    return changes

"""Saving a new prompt version: validate its content, number it under a lock, audit, move labels."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from jinja2 import meta
from jsonschema import Draft202012Validator

from audits.services import audit_event_record
from core.errors import Conflict, InvalidInput
from prompts.configuration import config_get
from prompts.models import ApiStyle, Prompt, PromptVersion, VersionKind
from prompts.rendering import (
    json_schema_check,
    template_syntax_check,
    variables_schema_check,
)
from prompts.resolve_cache import resolve_cache_forget_around_commit
from prompts.services.labels import label_move_allowed, label_name_check, label_point
from prompts.template_limits import environment

ROLES = ("system", "developer", "user", "assistant")
PARAMETERS_SCHEMA = {
    "type": "object",
    "properties": {
        "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
        "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "max_output_tokens": {"type": ["integer", "null"], "minimum": 1, "maximum": 200000},
        "seed": {"type": ["integer", "null"]},
        "reasoning_effort": {"enum": ["minimal", "low", "medium", "high", None]},
    },
    "additionalProperties": False,
}
MAX_MESSAGES = 50
MAX_TEMPLATE_CHARS = 100_000


def _invalid(
    field: str, reason: str, *, code: str = "validation_error", kind: str = "value"
) -> InvalidInput:
    return InvalidInput(
        f"{field}: {reason}",
        code=code,
        details=[{"field": field, "in": "body", "reason": reason, "type": kind}],
    )


def _messages_check(*, kind: str, messages: list, template: str) -> None:
    if kind == VersionKind.TEXT:
        if messages:
            raise _invalid("messages", "must be empty for kind 'text' (use template)")
        if not template or len(template) > MAX_TEMPLATE_CHARS:
            raise _invalid("template", f"must be 1 to {MAX_TEMPLATE_CHARS} characters")
        return
    if kind != VersionKind.CHAT:
        raise _invalid("kind", "must be 'chat' or 'text'")
    if template:
        raise _invalid("template", "must be empty for kind 'chat' (use messages)")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise _invalid("messages", f"must hold 1 to {MAX_MESSAGES} messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise _invalid(f"messages[{index}]", "must be exactly {role, content}")
        if message["role"] not in ROLES:
            raise _invalid(f"messages[{index}].role", f"must be one of {', '.join(ROLES)}")
        if (
            not isinstance(message["content"], str)
            or not 0 < len(message["content"]) <= MAX_TEMPLATE_CHARS
        ):
            raise _invalid(
                f"messages[{index}].content", f"must be 1 to {MAX_TEMPLATE_CHARS} characters"
            )


def _undeclared_variables_check(*, kind: str, messages: list, template: str, schema: dict) -> None:
    """A template may only use variables its schema declares: a typo fails at save, not at run."""
    declared = set(schema.get("properties", {})) | set(environment.globals)
    sources = (
        [("template", template)]
        if kind == VersionKind.TEXT
        else [(f"messages[{i}].content", m["content"]) for i, m in enumerate(messages)]
    )
    problems = []
    for field, source in sources:
        for name in sorted(meta.find_undeclared_variables(environment.parse(source)) - declared):
            problems.append(
                {
                    "field": field,
                    "in": "body",
                    "reason": f"uses '{name}', which variables_schema does not declare",
                    "type": "undeclared_variable",
                }
            )
    if problems:
        raise InvalidInput(
            "Templates use variables the schema does not declare: "
            + ", ".join(p["reason"].split("'")[1] for p in problems)
            + ".",
            code="template_variable_undeclared",
            details=problems,
        )


def version_content_validate(
    *,
    kind: str,
    messages: list,
    template: str,
    variables_schema: Any,
    model: str,
    parameters: Any,
    output_schema: Any,
    api_style: str,
) -> dict:
    """Check a version's content the same way for the API, the admin and imports; the clean dict."""
    _messages_check(kind=kind, messages=messages, template=template)
    template_syntax_check(kind=kind, messages=messages, template=template)
    variables_schema_check(schema=variables_schema)
    _undeclared_variables_check(
        kind=kind, messages=messages, template=template, schema=variables_schema
    )
    if output_schema is not None:
        json_schema_check(schema=output_schema, field="output_schema")
    errors = list(Draft202012Validator(PARAMETERS_SCHEMA).iter_errors(parameters))
    if errors:
        where = ".".join(["parameters", *(str(p) for p in errors[0].absolute_path)])
        raise _invalid(where, errors[0].message)
    model = model or config_get("default_model")
    if model not in config_get("allowed_models"):
        raise _invalid("model", f"'{model}' is not an allowed model", code="model_not_allowed")
    if api_style not in ApiStyle.values:
        raise _invalid("api_style", "must be '', 'chat' or 'responses'")
    return {
        "kind": kind,
        "messages": messages if kind == VersionKind.CHAT else [],
        "template": template if kind == VersionKind.TEXT else "",
        "variables_schema": variables_schema,
        "model": model,
        "parameters": parameters,
        "output_schema": output_schema,
        "api_style": api_style,
    }


def version_labels_check(*, labels, author) -> None:
    """Refuse labels the author may not move before anything is written."""
    for label in labels:
        label_name_check(label=label, field="labels")
        label_move_allowed(label=label, actor=author)


def version_save(
    *, prompt: Prompt, author, content: dict, note: str, labels
) -> tuple[PromptVersion, list[dict]]:
    """Inside the caller's transaction, with ``prompt`` locked: number, save, move labels.

    Returns the version and the label moves, for the caller's one audit event.
    """
    # The prompt row lock serialises numbering; the unique (prompt, number) is the backstop.
    number = (prompt.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = PromptVersion(prompt=prompt, number=number, author=author, note=note, **content)
    version.save()
    moves = [
        move
        for label in labels
        if (
            move := label_point(
                prompt=prompt, label=label, version=version, actor=author, note=note
            )
        )
    ]
    return version, moves


def prompt_version_create(
    *,
    prompt: Prompt,
    author,
    kind: str = VersionKind.CHAT,
    messages: list | None = None,
    template: str = "",
    variables_schema: dict | None = None,
    model: str = "",
    parameters: dict | None = None,
    output_schema: dict | None = None,
    api_style: str = "",
    note: str = "",
    labels: list[str] | tuple[str, ...] = (),
) -> PromptVersion:
    """Save the next version of ``prompt`` (never reusing a number) and move ``labels`` to it.

    One audit event, ``prompt.version_created``, carries the label moves (from/to) it made.
    """
    content = version_content_validate(
        kind=kind,
        messages=messages or [],
        template=template,
        variables_schema={"type": "object", "properties": {}}
        if variables_schema is None
        else variables_schema,
        model=model,
        parameters=parameters or {},
        output_schema=output_schema,
        api_style=api_style,
    )
    version_labels_check(labels=labels, author=author)
    with transaction.atomic():
        locked = Prompt.objects.select_for_update(no_key=True).get(pk=prompt.pk)
        if locked.archived_at is not None:
            raise Conflict(
                f"Prompt '{locked.slug}' is archived; restore it first.", code="prompt_archived"
            )
        version, moves = version_save(
            prompt=locked, author=author, content=content, note=note, labels=labels
        )
        audit_event_record(
            action="prompt.version_created",
            entity_type="prompt",
            entity_id=locked.pk,
            details={
                "slug": locked.slug,
                "version": version.number,
                "content_sha256": version.content_hash,
                "note": note,
                "label_moves": moves,
            },
        )
        resolve_cache_forget_around_commit(slug=locked.slug)
    return version

"""Moving and removing labels: who may, under a row lock, with history and an audit event."""

import re

from django.db import transaction

from audits.services import audit_event_record
from core import context
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.permissions import is_admin, is_staff_member
from prompts.models import LABEL_PATTERN, LATEST, PRODUCTION, Prompt, PromptLabel, PromptLabelMove
from prompts.resolve_cache import resolve_cache_forget_around_commit


def label_name_check(*, label: str, field: str = "label") -> None:
    """422 for ``latest`` (implicit, never assigned) and for names outside ``[a-z0-9_.-]{1,36}``."""
    if label == LATEST:
        raise InvalidInput(
            "'latest' always means the newest version and cannot be assigned.",
            code="label_reserved",
            details=[{"field": field, "in": "body", "reason": "reserved", "type": "reserved"}],
        )
    if not re.fullmatch(LABEL_PATTERN, label or ""):
        raise InvalidInput(
            f"Label '{label}' must match [a-z0-9_.-]{{1,36}}.",
            code="label_invalid",
            details=[
                {
                    "field": field,
                    "in": "body",
                    "reason": "must match [a-z0-9_.-]{1,36}",
                    "type": "pattern",
                }
            ],
        )


def label_move_allowed(*, label: str, actor) -> None:
    """Staff move labels; only an admin, signed in as a person, moves ``production``.

    ``actor`` None is an operator at the shell (``prompts_import``), who may move any label.
    The API-key rule holds on every path because it reads the request context, not the route.
    """
    if label == PRODUCTION:
        if context.current().actor_api_key_id:
            raise PermissionDenied(
                "An API key can never move the production label; sign in as an admin.",
                code="api_key_not_allowed",
            )
        if actor is not None and not is_admin(actor):
            raise PermissionDenied("Only admins may move the production label.")
    elif actor is not None and not is_staff_member(actor):
        raise PermissionDenied("Only staff may move labels.")


def _locked_prompt(prompt: Prompt) -> Prompt:
    # One lock per prompt orders every label move and version creation of that prompt, so two
    # concurrent moves of one label each see the other's result as their "from".
    return Prompt.objects.select_for_update(no_key=True).get(pk=prompt.pk)


def label_point(*, prompt: Prompt, label: str, version, actor, note: str) -> dict | None:
    """Inside the caller's transaction, with ``prompt`` locked: point ``label`` at ``version``.

    Writes the history row; returns the move ``{label, from_version, to_version}`` (None when the
    label already pointed there) so the caller records it in its one audit event.
    """
    row = PromptLabel.objects.select_related("version").filter(prompt=prompt, name=label).first()
    from_version = row.version.number if row else None
    if from_version == version.number:
        return None
    if row is None:
        PromptLabel.objects.create(prompt=prompt, name=label, version=version)
    else:
        row.version = version
        row.save(update_fields=["version", "updated_at"])
    _history(
        prompt=prompt,
        label=label,
        from_version=from_version,
        to_version=version.number,
        actor=actor,
        note=note,
    )
    return {"label": label, "from_version": from_version, "to_version": version.number}


def prompt_label_move(
    *, prompt: Prompt, label: str, version: int, actor, note: str = ""
) -> PromptLabel:
    """Point ``label`` at version number ``version``; history row + ``prompt.label_moved`` audit."""
    label_name_check(label=label)
    label_move_allowed(label=label, actor=actor)
    with transaction.atomic():
        locked = _locked_prompt(prompt)
        target = locked.versions.filter(number=version).first()
        if target is None:
            raise NotFound(
                f"Prompt '{prompt.slug}' has no version {version}.", code="version_not_found"
            )
        move = label_point(prompt=locked, label=label, version=target, actor=actor, note=note)
        if move is not None:
            _audit(prompt=locked, action="prompt.label_moved", move=move, note=note)
        resolve_cache_forget_around_commit(slug=locked.slug, labels={label})
    return PromptLabel.objects.select_related("version").get(prompt=locked, name=label)


def prompt_label_remove(*, prompt: Prompt, label: str, actor, note: str = "") -> None:
    """Remove ``label`` from the prompt (404 ``label_not_found``); history + audit like a move."""
    label_name_check(label=label)
    label_move_allowed(label=label, actor=actor)
    with transaction.atomic():
        locked = _locked_prompt(prompt)
        row = (
            PromptLabel.objects.select_related("version").filter(prompt=locked, name=label).first()
        )
        if row is None:
            raise NotFound(
                f"Prompt '{prompt.slug}' has no label '{label}'.", code="label_not_found"
            )
        from_version = row.version.number
        row.delete()
        _history(
            prompt=locked,
            label=label,
            from_version=from_version,
            to_version=None,
            actor=actor,
            note=note,
        )
        move = {"label": label, "from_version": from_version, "to_version": None}
        _audit(prompt=locked, action="prompt.label_removed", move=move, note=note)
        resolve_cache_forget_around_commit(slug=locked.slug, labels={label})


def _history(*, prompt: Prompt, label: str, from_version, to_version, actor, note: str) -> None:
    PromptLabelMove.objects.create(
        prompt=prompt,
        label=label,
        from_version=from_version,
        to_version=to_version,
        actor=actor,
        actor_label=context.current().actor_label[:254],
        note=note,
    )


def _audit(*, prompt: Prompt, action: str, move: dict, note: str) -> None:
    audit_event_record(
        action=action,
        entity_type="prompt",
        entity_id=prompt.pk,
        details={"slug": prompt.slug, **move, "note": note},
    )

"""Routers of the prompts domain: /prompts (versions, labels, render, export/import), /configurations."""

from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from accounts.auth import api_auth
from core import document_cache
from core.errors import ErrorOut
from core.permissions import Role, any_user, is_staff_member, requires
from core.responses import json_rendered, json_response
from prompts import configuration, schemas, selectors
from prompts.models import LABEL_PATTERN
from prompts.rendering import prompt_render
from prompts.resolve_cache import (
    resolve_document_cached,
    resolve_document_fill,
    resolve_document_key,
)
from prompts.services import labels, transfer
from prompts.services import prompts as prompt_services
from prompts.services.versions import prompt_version_create

router = Router()
configurations_router = Router()

READ = {401: ErrorOut, 404: ErrorOut, 409: ErrorOut}
# A label to move or remove: its pattern is declared for clients and generators, but checked by
# the label services (422 `label_invalid` / `label_reserved`, the codes the admin and imports
# give too). A history is only read, so any name is an answer (an empty one).
LabelInPath = Annotated[str, WithJsonSchema({"type": "string", "pattern": LABEL_PATTERN})]
WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _detail(version) -> dict:
    """A prompt with one resolved version, as GET /prompts/{slug} shows it."""
    prompt = version.prompt
    return {
        "slug": prompt.slug,
        "name": prompt.name,
        "description": prompt.description,
        "tags": prompt.tags,
        "labels": selectors.labels_of(prompt),
        "latest_version": getattr(prompt, "latest_number", None),
        "archived_at": prompt.archived_at,
        "created_at": prompt.created_at,
        "updated_at": prompt.updated_at,
        "version": version,
    }


def _prompt(request: HttpRequest, slug: str):
    return selectors.prompt_get_for(actor=request.auth, slug=slug)


@router.get("", response=list[schemas.PromptOut])
@paginate
@any_user
def prompt_list(request: HttpRequest, filters: Query[schemas.PromptFilters]):
    """Prompts with their labels; `q` searches slug, name and description. Staff may `include_archived`."""
    return selectors.prompt_list(actor=request.auth, **filters.dict())


@router.post("", response={201: schemas.PromptDetailOut, **WRITE})
@requires(Role.STAFF)
def prompt_create(request: HttpRequest, payload: schemas.PromptCreateIn):
    """Create a prompt with its first version, optionally moving `labels` to it (`production`: admin)."""
    prompt = prompt_services.prompt_create_checked(
        slug=payload.slug,
        name=payload.name,
        description=payload.description,
        tags=payload.tags,
        actor=request.auth,
        version=payload.version.content(),
        labels=payload.labels,
    )
    return Status(201, _detail(selectors.prompt_version_resolve(slug=prompt.slug, label="latest")))


@router.post("/import", response={200: schemas.ImportOut, **WRITE})
@requires(Role.ADMIN)
def prompts_import(request: HttpRequest, payload: schemas.ImportIn, dry_run: bool = False):
    """Apply a prompts document (from export): new versions, never overwrites; `?dry_run=true` reports only."""
    changes = transfer.prompts_import_document(
        document=payload.dict(), actor=request.auth, dry_run=dry_run
    )
    return {"dry_run": dry_run, "changes": changes}


@router.get(
    "/{slug}",
    response={200: schemas.PromptDetailOut, **READ, 422: ErrorOut},
    auth=api_auth(document_key=resolve_document_key),
)
@any_user
def prompt_get(request: HttpRequest, slug: str, query: Query[schemas.ResolveQuery]):
    """The prompt with one version: `?label=` or `?version=` (not both); default `production`, else latest."""
    by_label = query.version is None  # the hot path: its rendered response is kept
    if by_label and (
        body := resolve_document_cached(slug=slug, label=query.label, request=request)
    ):
        return json_response(body)
    started = document_cache.read_started()
    version = selectors.prompt_version_resolve(
        slug=slug,
        label=query.label,
        version=query.version,
        include_archived=is_staff_member(request.auth),
    )
    if not by_label or version.prompt.archived_at is not None:  # archived: staff only
        return _detail(version)
    body = json_rendered(request, schemas.PromptDetailOut, _detail(version), status=200)
    resolve_document_fill(slug=slug, label=query.label, body=body, started=started)
    return json_response(body)


@router.patch("/{slug}", response={200: schemas.PromptOut, **WRITE})
@requires(Role.STAFF)
def prompt_update(request: HttpRequest, slug: str, payload: schemas.PromptUpdateIn):
    """Change name, description or tags; versions never change."""
    prompt = prompt_services.prompt_update(
        prompt=_prompt(request, slug), actor=request.auth, **payload.dict(exclude_unset=True)
    )
    return selectors.prompt_get(slug=prompt.slug)


@router.delete("/{slug}", response={200: schemas.PromptOut, **WRITE})
@requires(Role.STAFF)
def prompt_archive(request: HttpRequest, slug: str):
    """Archive: the prompt can no longer be resolved for new analyses (409 `prompt_archived`)."""
    prompt_services.prompt_archive(prompt=_prompt(request, slug), actor=request.auth)
    return selectors.prompt_get(slug=slug)


@router.post("/{slug}/restore", response={200: schemas.PromptOut, **WRITE})
@requires(Role.STAFF)
def prompt_restore(request: HttpRequest, slug: str):
    """Undo an archive."""
    prompt_services.prompt_restore(prompt=_prompt(request, slug), actor=request.auth)
    return selectors.prompt_get(slug=slug)


@router.get("/{slug}/versions", response={200: list[schemas.VersionOut], **READ})
@paginate
@any_user
def version_list(request: HttpRequest, slug: str):
    """Every version, newest first."""
    return selectors.prompt_version_list(prompt=_prompt(request, slug))


@router.post("/{slug}/versions", response={201: schemas.VersionOut, **WRITE})
@requires(Role.STAFF)
def version_create(request: HttpRequest, slug: str, payload: schemas.VersionCreateIn):
    """Save the next version (numbers are never reused); `labels` move to it at once."""
    content = payload.content()
    moved = content.pop("labels")
    version = prompt_version_create(
        prompt=_prompt(request, slug), author=request.auth, labels=moved, **content
    )
    return Status(201, version)


@router.get("/{slug}/versions/{number}", response={200: schemas.VersionOut, **READ})
@any_user
def version_get(request: HttpRequest, slug: str, number: int):
    """One version by number."""
    return selectors.prompt_version_get(prompt=_prompt(request, slug), number=number)


@router.get("/{slug}/versions/{a}/diff/{b}", response={200: schemas.DiffOut, **READ})
@any_user
def version_diff(request: HttpRequest, slug: str, a: int, b: int):
    """A unified diff per message and every changed setting, from version `a` to version `b`."""
    prompt = _prompt(request, slug)
    return selectors.prompt_version_diff(
        a=selectors.prompt_version_get(prompt=prompt, number=a),
        b=selectors.prompt_version_get(prompt=prompt, number=b),
    )


@router.put("/{slug}/labels/{label}", response={200: schemas.LabelOut, **WRITE})
@requires(Role.STAFF)
def label_move(request: HttpRequest, slug: str, label: LabelInPath, payload: schemas.LabelMoveIn):
    """Point a label at a version (`production`: admins, never an API key); recorded in its history."""
    row = labels.prompt_label_move(
        prompt=_prompt(request, slug),
        label=label,
        version=payload.version,
        actor=request.auth,
        note=payload.note,
    )
    return {"label": row.name, "version": row.version.number, "updated_at": row.updated_at}


@router.delete("/{slug}/labels/{label}", response={204: None, **WRITE})
@requires(Role.STAFF)
def label_remove(request: HttpRequest, slug: str, label: LabelInPath):
    """Remove a label (`production`: admins); recorded in its history."""
    labels.prompt_label_remove(prompt=_prompt(request, slug), label=label, actor=request.auth)
    return Status(204, None)


@router.get("/{slug}/labels/{label}/history", response={200: list[schemas.LabelMoveOut], **WRITE})
@paginate
@requires(Role.STAFF)
def label_history(request: HttpRequest, slug: str, label: str):
    """Every move of the label, newest first: who, when, from, to (null: removed), note."""
    return selectors.label_history(prompt=_prompt(request, slug), label=label)


@router.post(
    "/{slug}/render", response={200: schemas.RenderOut, **READ, 403: ErrorOut, 422: ErrorOut}
)
@any_user
def prompt_render_preview(request: HttpRequest, slug: str, payload: schemas.RenderIn):
    """Render a version with `variables` (validated by its schema): the messages, their sha256 and
    an estimated input token count. No LLM call."""
    version = selectors.prompt_version_resolve(
        slug=slug,
        label=payload.label,
        version=payload.version,
        include_archived=is_staff_member(request.auth),
    )
    rendered = prompt_render(version=version, variables=payload.variables)
    return {
        "slug": slug,
        "version": version.number,
        "content_hash": version.content_hash,
        "model": version.model,
        "parameters": version.parameters,
        "messages": rendered.messages,
        "sha256": rendered.sha256,
        "estimated_input_tokens": rendered.estimated_input_tokens,
    }


@router.get("/{slug}/export", response={200: dict, **WRITE})
@requires(Role.STAFF)
def prompt_export(request: HttpRequest, slug: str):
    """The prompt as a prompts-as-code document (what `manage.py prompts_export --slug` prints)."""
    _prompt(request, slug)
    return transfer.prompts_export_document(slugs=[slug])


@configurations_router.get("", response={200: list[schemas.ConfigurationOut], 403: ErrorOut})
@paginate
@requires(Role.STAFF)
def configuration_list(request: HttpRequest):
    """Every declared key: value, default, schema and description."""
    return configuration.config_entries()


@configurations_router.get(
    "/{key}", response={200: schemas.ConfigurationOut, **READ, 403: ErrorOut}
)
@requires(Role.STAFF)
def configuration_get(request: HttpRequest, key: str):
    """One declared key (404 `configuration_not_found` for an undeclared one)."""
    return configuration.config_entry(key=key)


@configurations_router.put("/{key}", response={200: schemas.ConfigurationOut, **WRITE})
@requires(Role.ADMIN)
def configuration_set(request: HttpRequest, key: str, payload: schemas.ConfigurationIn):
    """Store a value (422 `configuration_invalid` naming why it fails the schema); audited."""
    configuration.config_set(key=key, value=payload.value, actor=request.auth)
    return configuration.config_entry(key=key)


@configurations_router.delete("/{key}", response={200: schemas.ConfigurationOut, **WRITE})
@requires(Role.ADMIN)
def configuration_reset(request: HttpRequest, key: str):
    """Restore the declared default; audited."""
    configuration.config_reset(key=key, actor=request.auth)
    return configuration.config_entry(key=key)

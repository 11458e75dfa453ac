"""Every state-changing endpoint that exists leaves exactly one audit event, naming the right actor
and carrying the request's id.

The table below says how to call each one successfully. The guard test walks the live API (every
router's operations, and the OpenAPI schema) and fails when an operation that changes state is
missing from the table, so a new endpoint cannot ship without being proven audited here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from accounts.models import User
from accounts.services.api_keys import api_key_create
from accounts.services.passwords import password_reset_link_parts
from accounts.services.profile import email_verification_link_parts
from audits.models import AuditEvent
from audits.services import audit_event_record
from config.api import api
from tests.support.factories import DEFAULT_PASSWORD, AdminFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
CHANGING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NEW_PASSWORD = "another-long-passphrase-42"


@dataclass
class Call:
    """One successful call, and what its single audit event must say."""

    method: str
    path: str  # under /api/v1
    action: str
    actor: Callable[[], User | None]  # evaluated after the call; None: an anonymous caller
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    source: str = "api"
    content_type: str = "application/json"  # MULTIPART_CONTENT for uploads


def _tokens(client, person) -> dict:
    """Sign in through the API, so set-up never touches the test's own request context."""
    response = client.post(
        f"{API}/auth/login",
        {"email": person.email, "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _bearer(client, person) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {_tokens(client, person)['access_token']}"}


# --- how to call each operation (set-up may write events of its own; only the call's count) ----


def register(client) -> Call:
    email = "newcomer@example.com"
    return Call(
        "post", "/auth/register", "user.registered",
        actor=lambda: User.objects.get(email=email),  # anonymous flow: the new user acts
        body={"email": email, "password": DEFAULT_PASSWORD, "full_name": "New Comer"},
    )  # fmt: skip


def login(client) -> Call:
    person = UserFactory()
    return Call(
        "post", "/auth/login", "auth.login.succeeded", actor=lambda: person,
        body={"email": person.email, "password": DEFAULT_PASSWORD},
    )  # fmt: skip


def refresh(client) -> Call:
    # Spending a refresh token issues new credentials; its owner is the actor (it proves who).
    person = UserFactory()
    tokens = _tokens(client, person)
    return Call(
        "post", "/auth/refresh", "auth.token.refreshed", actor=lambda: person,
        body={"refresh_token": tokens["refresh_token"]},
    )  # fmt: skip


def logout(client) -> Call:
    person = UserFactory()
    tokens = _tokens(client, person)
    return Call(
        "post", "/auth/logout", "auth.logout", actor=lambda: person,
        body={"refresh_token": tokens["refresh_token"]},
        headers={"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"},
    )  # fmt: skip


def me_update(client) -> Call:
    person = UserFactory()
    return Call(
        "patch", "/auth/me", "user.updated", actor=lambda: person,
        body={"full_name": "Renamed Person"}, headers=_bearer(client, person),
    )  # fmt: skip


def password_change(client) -> Call:
    person = UserFactory()
    return Call(
        "post", "/auth/password/change", "auth.password.changed", actor=lambda: person,
        body={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=_bearer(client, person),
    )  # fmt: skip


def password_reset(client) -> Call:
    # Anyone may ask for a reset of any address: the caller proved nothing, so it stays
    # anonymous (the user concerned is the entity, not the actor).
    person = UserFactory()
    return Call(
        "post", "/auth/password/reset", "auth.password.reset_requested", actor=lambda: None,
        body={"email": person.email},
    )  # fmt: skip


def password_reset_confirm(client) -> Call:
    person = UserFactory()
    uid, token = password_reset_link_parts(user=person)
    return Call(
        "post", "/auth/password/reset/confirm", "auth.password.reset", actor=lambda: person,
        body={"uid": uid, "token": token, "new_password": NEW_PASSWORD},
    )  # fmt: skip


def email_verify(client) -> Call:
    person = UserFactory(email_verified_at=None)
    return Call(
        "post", "/auth/email/verify", "auth.email.verification_sent", actor=lambda: person,
        headers=_bearer(client, person),
    )  # fmt: skip


def email_verify_confirm(client) -> Call:
    person = UserFactory()
    uid, token = email_verification_link_parts(user=person)
    return Call(
        "post", "/auth/email/verify/confirm", "auth.email.verified", actor=lambda: person,
        body={"uid": uid, "token": token},
    )  # fmt: skip


def api_key_create_call(client) -> Call:
    person = UserFactory()
    return Call(
        "post", "/auth/api-keys", "auth.api_key.created", actor=lambda: person,
        body={"name": "ci", "scope": "read+write", "current_password": DEFAULT_PASSWORD},
        headers=_bearer(client, person),
    )  # fmt: skip


def api_key_revoke(client) -> Call:
    person = UserFactory()
    key, _ = api_key_create(user=person, name="ci")
    return Call(
        "delete", f"/auth/api-keys/{key.pk}", "auth.api_key.revoked", actor=lambda: person,
        headers=_bearer(client, person),
    )  # fmt: skip


def user_update(client) -> Call:
    admin, target = AdminFactory(), UserFactory()
    return Call(
        "patch", f"/users/{target.pk}", "user.role.changed", actor=lambda: admin,
        body={"role": "staff"}, headers=_bearer(client, admin),
    )  # fmt: skip


def user_deactivate(client) -> Call:
    admin, target = AdminFactory(), UserFactory()
    return Call(
        "delete", f"/users/{target.pk}", "user.deactivated", actor=lambda: admin,
        headers=_bearer(client, admin),
    )  # fmt: skip


def audit_create(client) -> Call:
    person = UserFactory()
    return Call(
        "post", "/audits", "invoice.paid", actor=lambda: person, source="external",
        body={"action": "invoice.paid", "entity_type": "invoice", "entity_id": "inv-1"},
        headers=_bearer(client, person),
    )  # fmt: skip


def audit_review(client) -> Call:
    staff = StaffFactory()
    event = audit_event_record(action="thing.done", entity_type="thing")
    return Call(
        "patch", f"/audits/{event.pk}", "audit.event.reviewed", actor=lambda: staff,
        body={"status": "resolved"}, headers=_bearer(client, staff),
    )  # fmt: skip


def audit_redact(client) -> Call:
    admin = AdminFactory()
    event = audit_event_record(action="thing.done", entity_type="thing", details={"a": 1})
    return Call(
        "delete", f"/audits/{event.pk}", "audit.event.redacted", actor=lambda: admin,
        headers=_bearer(client, admin),
    )  # fmt: skip


def _prompt(**kwargs):
    from tests.support.prompts_factories import prompt_make

    return prompt_make(**kwargs)


def prompt_create_call(client) -> Call:
    from tests.support.prompts_factories import version_content

    person = StaffFactory()
    return Call(
        "post", "/prompts", "prompt.created", actor=lambda: person,
        body={"slug": "fresh", "name": "Fresh", "version": version_content(), "labels": ["staging"]},
        headers=_bearer(client, person),
    )  # fmt: skip


def prompt_update_call(client) -> Call:
    person, prompt = StaffFactory(), _prompt()
    return Call(
        "patch", f"/prompts/{prompt.slug}", "prompt.updated", actor=lambda: person,
        body={"name": "Renamed"}, headers=_bearer(client, person),
    )  # fmt: skip


def prompt_archive_call(client) -> Call:
    person, prompt = StaffFactory(), _prompt()
    return Call(
        "delete", f"/prompts/{prompt.slug}", "prompt.archived", actor=lambda: person,
        headers=_bearer(client, person),
    )  # fmt: skip


def prompt_restore_call(client) -> Call:
    from prompts.services.prompts import prompt_archive

    person, prompt = StaffFactory(), _prompt()
    prompt_archive(prompt=prompt, actor=None)
    return Call(
        "post", f"/prompts/{prompt.slug}/restore", "prompt.restored", actor=lambda: person,
        body={}, headers=_bearer(client, person),
    )  # fmt: skip


def prompt_version_create_call(client) -> Call:
    from tests.support.prompts_factories import version_content

    person, prompt = StaffFactory(), _prompt()
    return Call(
        "post", f"/prompts/{prompt.slug}/versions", "prompt.version_created", actor=lambda: person,
        body={**version_content(note="second"), "labels": ["staging"]},
        headers=_bearer(client, person),
    )  # fmt: skip


def prompt_label_move_call(client) -> Call:
    person, prompt = StaffFactory(), _prompt()
    return Call(
        "put", f"/prompts/{prompt.slug}/labels/staging", "prompt.label_moved", actor=lambda: person,
        body={"version": 1, "note": "try it"}, headers=_bearer(client, person),
    )  # fmt: skip


def prompt_label_remove_call(client) -> Call:
    person, prompt = StaffFactory(), _prompt(labels=("production", "staging"))
    return Call(
        "delete", f"/prompts/{prompt.slug}/labels/staging", "prompt.label_removed",
        actor=lambda: person, headers=_bearer(client, person),
    )  # fmt: skip


def prompts_import_call(client) -> Call:
    from prompts.services.transfer import prompts_export_document

    person, prompt = AdminFactory(), _prompt()
    document = prompts_export_document(slugs=[prompt.slug])
    document["prompts"][0]["labels"]["staging"] = 1  # the one change: a label to move
    return Call(
        "post", "/prompts/import", "prompt.label_moved", actor=lambda: person,
        body=document, headers=_bearer(client, person),
    )  # fmt: skip


def configuration_set_call(client) -> Call:
    person = AdminFactory()
    return Call(
        "put", "/configurations/analysis_attempt_budget", "configuration.updated",
        actor=lambda: person, body={"value": 5}, headers=_bearer(client, person),
    )  # fmt: skip


def configuration_reset_call(client) -> Call:
    from prompts.configuration import config_set

    person = AdminFactory()
    config_set(key="analysis_attempt_budget", value=5, actor=None)
    return Call(
        "delete", "/configurations/analysis_attempt_budget", "configuration.reset",
        actor=lambda: person, headers=_bearer(client, person),
    )  # fmt: skip


def preferences_put_call(client) -> Call:
    person = UserFactory()
    return Call(
        "put", "/auth/me/preferences", "user.preferences.updated", actor=lambda: person,
        body={"theme": "dark"}, headers=_bearer(client, person),
    )  # fmt: skip


# POSTs that change nothing (they compute an answer from a body too large or rich for a query).
READ_ONLY_POSTS = {("POST", "/api/v1/prompts/{slug}/render")}


def file_upload(client) -> Call:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import MULTIPART_CONTENT

    person = UserFactory()
    return Call(
        "post", "/files", "file.uploaded", actor=lambda: person, headers=_bearer(client, person),
        body={"file": SimpleUploadedFile("a.txt", b"audited\n", content_type="text/plain")},
        content_type=MULTIPART_CONTENT,
    )  # fmt: skip


def file_delete(client) -> Call:
    from tests.support.files_factories import file_create

    person = UserFactory()
    file = file_create(owner=person, data=b"to delete\n")
    return Call(
        "delete", f"/files/{file.pk}", "file.deleted", actor=lambda: person,
        headers=_bearer(client, person),
    )  # fmt: skip


CALLS: dict[tuple[str, str], Callable] = {
    ("POST", "/api/v1/auth/register"): register,
    ("POST", "/api/v1/auth/login"): login,
    ("POST", "/api/v1/auth/refresh"): refresh,
    ("POST", "/api/v1/auth/logout"): logout,
    ("PATCH", "/api/v1/auth/me"): me_update,
    ("POST", "/api/v1/auth/password/change"): password_change,
    ("POST", "/api/v1/auth/password/reset"): password_reset,
    ("POST", "/api/v1/auth/password/reset/confirm"): password_reset_confirm,
    ("POST", "/api/v1/auth/email/verify"): email_verify,
    ("POST", "/api/v1/auth/email/verify/confirm"): email_verify_confirm,
    ("POST", "/api/v1/auth/api-keys"): api_key_create_call,
    ("DELETE", "/api/v1/auth/api-keys/{key_id}"): api_key_revoke,
    ("PATCH", "/api/v1/users/{user_id}"): user_update,
    ("DELETE", "/api/v1/users/{user_id}"): user_deactivate,
    ("POST", "/api/v1/audits"): audit_create,
    ("PATCH", "/api/v1/audits/{event_id}"): audit_review,
    ("DELETE", "/api/v1/audits/{event_id}"): audit_redact,
    ("PUT", "/api/v1/auth/me/preferences"): preferences_put_call,
    ("POST", "/api/v1/prompts"): prompt_create_call,
    ("PATCH", "/api/v1/prompts/{slug}"): prompt_update_call,
    ("DELETE", "/api/v1/prompts/{slug}"): prompt_archive_call,
    ("POST", "/api/v1/prompts/{slug}/restore"): prompt_restore_call,
    ("POST", "/api/v1/prompts/{slug}/versions"): prompt_version_create_call,
    ("PUT", "/api/v1/prompts/{slug}/labels/{label}"): prompt_label_move_call,
    ("DELETE", "/api/v1/prompts/{slug}/labels/{label}"): prompt_label_remove_call,
    ("POST", "/api/v1/prompts/import"): prompts_import_call,
    ("PUT", "/api/v1/configurations/{key}"): configuration_set_call,
    ("DELETE", "/api/v1/configurations/{key}"): configuration_reset_call,
    ("POST", "/api/v1/files"): file_upload,
    ("DELETE", "/api/v1/files/{file_id}"): file_delete,
}


# --- the guard ------------------------------------------------------------------------------------


def _join(*parts: str) -> str:
    path = "/" + "/".join(part.strip("/") for part in parts if part.strip("/"))
    return path.rstrip("/") or "/"


def operations_from_routers() -> set[tuple[str, str]]:
    """(METHOD, full path) of every operation mounted on the one NinjaAPI, schema or not."""
    api.urls  # noqa: B018 - binds every (nested) router, filling api._routers with full prefixes
    return {
        (method.upper(), _join(API, prefix, path))
        for prefix, router in api._routers
        for path, path_view in router.path_operations.items()
        for operation in path_view.operations
        for method in operation.methods
    }


def operations_from_openapi(client) -> set[tuple[str, str]]:
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    return {(method.upper(), path.rstrip("/") or "/") for path, methods in paths.items() for method in methods}  # fmt: skip


def test_the_table_covers_every_state_changing_operation(client):
    operations = operations_from_routers() | operations_from_openapi(client)
    changing = {(method, path) for method, path in operations if method in CHANGING_METHODS}
    changing -= READ_ONLY_POSTS

    missing = sorted(changing - set(CALLS))
    stale = sorted(set(CALLS) - changing)

    assert not missing, (
        f"new state-changing operations: add them to CALLS (and audit them): {missing}"
    )
    assert not stale, f"CALLS lists operations the API no longer has: {stale}"


def test_the_router_walk_sees_what_the_schema_shows(client):
    # If this fails the guard's walk over the routers is broken, not the API.
    assert operations_from_openapi(client) <= operations_from_routers()


# --- the proof ------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(CALLS), ids=lambda op: f"{op[0]} {op[1]}")
def test_a_change_leaves_exactly_one_event_with_the_right_actor_and_request_id(client, operation):
    call = CALLS[operation](client)
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    request_id = f"every-change-{operation[0].lower()}-{len(operation[1])}"

    send = getattr(client, call.method)
    if call.body is None:
        response = send(API + call.path, HTTP_X_REQUEST_ID=request_id, **call.headers)
    else:
        response = send(
            API + call.path, call.body, content_type=call.content_type,
            HTTP_X_REQUEST_ID=request_id, **call.headers,
        )  # fmt: skip

    assert 200 <= response.status_code < 300, response.content
    assert response["X-Request-ID"] == request_id
    new = list(AuditEvent.objects.filter(sequence__gt=last).order_by("sequence"))
    assert len(new) == 1, f"expected exactly one event, got {[e.action for e in new]}"
    [event] = new
    assert event.action == call.action
    assert event.request_id == response["X-Request-ID"]
    assert event.source == call.source
    actor = call.actor()
    if actor is None:
        assert (event.actor_type, event.actor_user_id, event.actor_label) == (
            "system",
            "",
            "anonymous",
        )
    else:
        assert (event.actor_type, event.actor_user_id, event.actor_label) == (
            "user",
            str(actor.pk),
            actor.email,
        )

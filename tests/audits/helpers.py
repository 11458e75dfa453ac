"""Calls the audits tests make over and over: recording as someone, the HTTP API, raw SQL."""

from django.db import connection

from audits.models import AuditEvent
from audits.services import audit_event_record
from core import context

EVENT = {
    "action": "invoice.paid",
    "entity_type": "invoice",
    "entity_id": "inv-42",
    "details": {"amount": 12},
}


def record_as(person, action: str = "thing.done", **fields) -> AuditEvent:
    """Record an event with ``person`` as the actor, the way an authenticated request would."""
    ctx = context.RequestContext(
        request_id=context.new_request_id(),
        source="api",
        actor_user_id=str(person.pk),
        actor_label=person.email,
    )
    with context.bound(ctx):
        return audit_event_record(
            action=action, entity_type=fields.pop("entity_type", "thing"), **fields
        )


def record_system(count: int, *, action: str = "thing.done") -> list[AuditEvent]:
    """``count`` events with no actor, entity ids "0".."count-1", details {"n": i}."""
    return [
        audit_event_record(action=action, entity_type="thing", entity_id=str(n), details={"n": n})
        for n in range(count)
    ]


def post_json(client, path: str, body: dict | None = None, **headers):
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json", **headers)


def patch_json(client, path: str, body: dict, **headers):
    return client.patch(f"/api/v1{path}", body, content_type="application/json", **headers)


def post_event(client, headers: dict, **changes):
    return post_json(client, "/audits", {**EVENT, **changes}, **headers)


def error_code(response) -> str:
    return response.json()["error"]["code"]


def raw_sql(sql: str, *params) -> None:
    """Write behind the application's back, as someone with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def streamed(response) -> str:
    """The whole body of a StreamingHttpResponse."""
    return b"".join(response.streaming_content).decode()

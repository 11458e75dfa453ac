"""A background task that records an audit event, so tests can see whose context it ran in."""

from django.tasks import task

from audits.services import audit_event_record
from core.context import runs_in_request_context


@task()
@runs_in_request_context
def thing_audit_in_background(*, entity_id: str) -> str:
    event = audit_event_record(action="thing.processed", entity_type="thing", entity_id=entity_id)
    return str(event.pk)

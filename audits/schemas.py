"""Request and response shapes of /audits."""

import uuid
from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import BaseModel, model_validator

from audits.models import ActorType, AuditEvent, ReviewStatus, Source
from core.schemas import StrictIn, UtcDatetime

ACTION_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"


class AuditEventIn(StrictIn):
    action: str = Field(max_length=100, pattern=ACTION_PATTERN, examples=["invoice.paid"])
    entity_type: str = Field(min_length=1, max_length=50)
    entity_id: str = Field("", max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, description="At most 64 KiB as JSON")
    occurred_at: UtcDatetime | None = Field(None, description="Defaults to now; not in the future")


class ActorOut(BaseModel):
    type: ActorType
    id: str | None
    api_key_id: str | None
    label: str


def event_fields(event) -> dict[str, Any]:
    """An event as the API shows it: the actor grouped, empty ids as null, ``redacted`` derived."""
    return {
        "id": event.id,
        "sequence": event.sequence,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "actor": {
            "type": event.actor_type,
            "id": event.actor_user_id or None,
            "api_key_id": event.actor_api_key_id or None,
            "label": event.actor_label,
        },
        "request_id": event.request_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "source": event.source,
        "details": event.details,
        "status": event.status,
        "review_note": event.review_note,
        "reviewed_by_id": event.reviewed_by_id or None,
        "reviewed_at": event.reviewed_at,
        "redacted": event.redacted_at is not None,
        "redacted_at": event.redacted_at,
        "redacted_by_id": event.redacted_by_id or None,
    }


# Plain pydantic rather than a ninja Schema: a page of events is validated in C from
# event_fields() instead of attribute by attribute through ninja's getter (docs/performance.md).
class AuditEventOut(BaseModel):
    id: uuid.UUID
    sequence: int
    occurred_at: datetime
    recorded_at: datetime
    action: str
    entity_type: str
    entity_id: str
    actor: ActorOut
    request_id: str
    ip: str | None
    user_agent: str
    source: Source
    details: dict[str, Any]
    status: ReviewStatus
    review_note: str
    reviewed_by_id: str | None
    reviewed_at: datetime | None
    redacted: bool
    redacted_at: datetime | None
    redacted_by_id: str | None

    @model_validator(mode="before")
    @classmethod
    def _from_event(cls, value: Any) -> Any:
        return event_fields(value) if isinstance(value, AuditEvent) else value


class AuditFilters(Schema):
    action: str | None = Field(
        None, max_length=101, pattern=r"^[a-z0-9_.]+(\.\*)?$", description="Exact, or `prompt.*`"
    )
    entity_type: str | None = Field(None, max_length=50)
    entity_id: str | None = Field(None, max_length=64)
    actor_id: uuid.UUID | None = None
    status: ReviewStatus | None = None
    since: UtcDatetime | None = Field(
        None, description="occurred_at >= since (ISO 8601, UTC if no offset)"
    )
    until: UtcDatetime | None = Field(
        None, description="occurred_at < until (ISO 8601, UTC if no offset)"
    )
    q: str | None = Field(None, max_length=100, description="Search action, entity id, actor")

    @model_validator(mode="after")
    def since_before_until(self) -> "AuditFilters":
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        return self


class ExportFilters(AuditFilters):
    format: Literal["ndjson", "csv"] = "ndjson"


class AuditReviewIn(StrictIn):
    """Only the review may change; any other field is refused (422)."""

    status: ReviewStatus | None = None
    review_note: str | None = Field(None, max_length=5000)


class VerificationOut(Schema):
    ok: bool
    checked: int
    first_sequence: int | None
    last_sequence: int | None
    broken_at_sequence: int | None
    broken_event_id: str | None
    reason: str
    head_hmac: str | None = Field(
        None, description="HMAC of the newest event: keep it outside the database as an anchor"
    )

"""Request and response shapes of /analyses."""

import uuid
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import model_validator

from core.schemas import JsonBool, JsonInt, StrictIn, UtcDatetime
from prompts.schemas import LABEL_OR_VERSION

MAX_WAIT_SECONDS = 30
StatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class AnalysisIn(StrictIn):
    model_config = LABEL_OR_VERSION

    prompt: str = Field(..., min_length=1, max_length=64, description="The prompt's slug.")
    label: str | None = Field(None, min_length=1, max_length=36)
    version: JsonInt | None = Field(None, ge=1, le=2_147_483_647)
    variables: dict[str, Any] = Field(default_factory=dict)
    file_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, json_schema_extra={"uniqueItems": True}
    )
    cache: JsonBool = False

    @model_validator(mode="after")
    def _label_or_version(self):
        if self.label is not None and self.version is not None:
            raise ValueError("give label or version, not both")
        if len(set(self.file_ids)) != len(self.file_ids):
            raise ValueError("file_ids must not repeat")
        return self


class WaitQuery(Schema):
    wait: float = Field(
        0, ge=0, le=MAX_WAIT_SECONDS, description="Hold up to N seconds for the result."
    )


class AnalysisFilters(Schema):
    status: StatusName | None = None
    prompt: str | None = Field(None, max_length=64, description="Prompt slug.")
    since: UtcDatetime | None = Field(None, description="created_at >= since")
    until: UtcDatetime | None = Field(None, description="created_at < until")


class UsageOut(Schema):
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reasoning_tokens: int


class ErrorInfo(Schema):
    code: str
    message: str
    retryable: bool
    upstream_status: int | None = None


class InputFileOut(Schema):
    id: uuid.UUID
    name: str
    sha256: str
    content_type: str


class AnalysisOut(Schema):
    id: uuid.UUID
    status: StatusName
    prompt: str
    prompt_version: int
    label: str
    model: str
    variables: dict[str, Any]
    input_files: list[InputFileOut]
    result_text: str
    result_json: Any = None
    error: ErrorInfo | None = None
    usage: UsageOut
    cost_usd: Decimal
    cache_hit: bool
    attempts: int
    cancel_requested: bool
    created_at: UtcDatetime
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    queue_wait_ms: int | None = None

    @staticmethod
    def resolve_prompt(obj) -> str:
        return obj.prompt.slug

    @staticmethod
    def resolve_prompt_version(obj) -> int:
        return obj.prompt_version.number

    @staticmethod
    def resolve_usage(obj) -> dict:
        return {
            "input_tokens": obj.input_tokens,
            "cached_input_tokens": obj.cached_input_tokens,
            "output_tokens": obj.output_tokens,
            "reasoning_tokens": obj.reasoning_tokens,
        }


class AnalysisDetailOut(AnalysisOut):
    messages: list[dict[str, Any]]
    messages_sha256: str

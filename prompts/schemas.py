"""Request and response shapes of /prompts and /configurations."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, model_validator

from core.schemas import JsonInt, JsonNumber, StrictIn
from prompts.services.transfer import FORMAT as IMPORT_FORMAT
from prompts.services.transfer import PROMPT_ENTRY_SCHEMA

Slug = Field(pattern=r"^[a-z0-9-]{1,64}$")


# A body naming both a label and a version is refused (422): said in the schema, so clients and
# the contract fuzz see it. (Only a string label with an integer version: null means "not given".)
LABEL_OR_VERSION = ConfigDict(
    json_schema_extra={
        "not": {
            "required": ["label", "version"],
            "properties": {"label": {"type": "string"}, "version": {"type": "integer"}},
        }
    }
)


class MessageIn(StrictIn):
    role: Literal["system", "developer", "user", "assistant"]
    content: str = Field(min_length=1, max_length=100_000)


class ParametersIn(StrictIn):
    temperature: JsonNumber | None = Field(None, ge=0, le=2)
    top_p: JsonNumber | None = Field(None, ge=0, le=1)
    max_output_tokens: JsonInt | None = Field(None, ge=1, le=200_000)
    seed: JsonInt | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None


class VersionIn(StrictIn):
    """The content of a version; exactly what its content hash covers, plus a note."""

    kind: Literal["chat", "text"] = "chat"
    messages: list[MessageIn] = Field(default_factory=list, max_length=50)
    template: str = Field("", max_length=100_000)
    variables_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    model: str = Field("", max_length=100, description="Empty: the `default_model` configuration.")
    parameters: ParametersIn = Field(default_factory=ParametersIn)
    output_schema: dict[str, Any] | None = None
    api_style: Literal["", "chat", "responses"] = ""
    note: str = Field("", max_length=2000)

    def content(self) -> dict:
        data = self.model_dump()
        data["parameters"] = self.parameters.model_dump(exclude_none=True)
        return data


class VersionCreateIn(VersionIn):
    labels: list[str] = Field(
        default_factory=list, max_length=10, description="Labels to move to the new version."
    )


class PromptCreateIn(StrictIn):
    slug: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    version: VersionIn
    labels: list[str] = Field(default_factory=list, max_length=10)


class PromptUpdateIn(StrictIn):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    tags: list[str] | None = Field(None, max_length=20)


class PromptFilters(Schema):
    q: str = Field("", max_length=200)
    tag: str = Field("", max_length=40)
    label: str = Field("", max_length=36)
    include_archived: bool = False


class ResolveQuery(Schema):
    label: str | None = Field(None, max_length=36)
    version: int | None = Field(None, ge=1, le=2_147_483_647)


class VersionOut(Schema):
    number: int
    kind: str
    messages: list[dict[str, str]]
    template: str
    variables_schema: dict[str, Any]
    model: str
    parameters: dict[str, Any]
    output_schema: dict[str, Any] | None
    api_style: str
    note: str
    author: str | None
    created_at: datetime
    content_hash: str

    @staticmethod
    def resolve_author(obj) -> str | None:
        if "author_email" in obj.__dict__:  # a cached resolution carries it
            return obj.author_email
        return obj.author.email if obj.author_id and obj.author else None


class PromptFields(Schema):
    slug: str
    name: str
    description: str
    tags: list[str]
    labels: dict[str, int] = Field(description="Label name -> version number.")
    latest_version: int | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PromptOut(PromptFields):
    @staticmethod
    def resolve_labels(obj) -> dict[str, int]:
        return {label.name: label.version.number for label in obj.labels.all()}

    @staticmethod
    def resolve_latest_version(obj) -> int | None:
        return getattr(obj, "latest_number", None)


class PromptDetailOut(PromptFields):
    version: VersionOut = Field(description="The resolved version.")


class LabelMoveIn(StrictIn):
    version: JsonInt = Field(ge=1, le=2_147_483_647)
    note: str = Field("", max_length=2000)


class LabelOut(Schema):
    label: str
    version: int
    updated_at: datetime


class LabelMoveOut(Schema):
    label: str
    from_version: int | None
    to_version: int | None
    actor: str
    note: str
    created_at: datetime

    @staticmethod
    def resolve_actor(obj) -> str:
        return obj.actor_label


class RenderIn(StrictIn):
    model_config = LABEL_OR_VERSION

    label: str | None = Field(None, max_length=36)
    version: JsonInt | None = Field(None, ge=1, le=2_147_483_647)
    variables: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _label_or_version(self):
        if self.label is not None and self.version is not None:
            raise ValueError("give label or version, not both")
        return self


class RenderOut(Schema):
    slug: str
    version: int
    content_hash: str
    model: str
    parameters: dict[str, Any]
    messages: list[dict[str, str]]
    sha256: str = Field(description="sha256 of the canonical JSON of `messages`.")
    estimated_input_tokens: int = Field(description="ceil(chars / 4) + 4 per message.")


class DiffOut(Schema):
    from_version: int
    to_version: int
    messages: list[dict[str, Any]]
    changes: dict[str, Any]


class ImportIn(StrictIn):
    # Declared as a constant; any other value is still refused by the import itself (422
    # `import_invalid`, the code clients already see), not by the parser.
    format: str = Field(json_schema_extra={"const": IMPORT_FORMAT})
    prompts: list[dict[str, Any]] = Field(
        max_length=500,
        description="Prompts as GET /prompts/{slug}/export writes them.",
        json_schema_extra={"items": PROMPT_ENTRY_SCHEMA},
    )


class ImportOut(Schema):
    dry_run: bool
    changes: list[dict[str, Any]]


class ConfigurationOut(Schema):
    key: str
    value: Any
    default: Any
    is_default: bool
    value_schema: dict[str, Any] = Field(description="The JSON Schema a value must satisfy.")
    description: str
    updated_at: datetime | None
    updated_by: str | None


class ConfigurationIn(StrictIn):
    value: Any

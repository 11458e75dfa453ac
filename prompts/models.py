"""Prompts, their immutable versions, the labels that point at them, and system configuration."""

import hashlib
import json
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from core.models import TimestampedModel

SLUG_PATTERN = r"^[a-z0-9-]{1,64}$"
LABEL_PATTERN = r"^[a-z0-9_.-]{1,36}$"
PRODUCTION = "production"
LATEST = "latest"  # implicit: the highest number; never stored as a label

# The fields a version's content hash covers: what the model is sent and how. The note, author
# and number are about the version, not its content, so an identical prompt hashes the same
# wherever (and whenever) it is saved.
CONTENT_FIELDS = (
    "kind",
    "messages",
    "template",
    "variables_schema",
    "model",
    "parameters",
    "output_schema",
    "api_style",
)


def canonical_json(value) -> str:
    """Sorted keys, no whitespace, UTF-8 as is: one spelling per JSON value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(content: dict) -> str:
    """sha256 hex of the canonical JSON of a version's content fields."""
    body = canonical_json({field: content.get(field) for field in CONTENT_FIELDS})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class Prompt(TimestampedModel):
    """A prompt clients resolve by slug (the "analysis type"); its versions carry the content."""

    slug = models.CharField(max_length=64, unique=True, validators=[RegexValidator(SLUG_PATTERN)])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class VersionKind(models.TextChoices):
    CHAT = "chat", "Chat messages"
    TEXT = "text", "Single text template"


class ApiStyle(models.TextChoices):
    DEFAULT = "", "Setting default"
    CHAT = "chat", "Chat Completions"
    RESPONSES = "responses", "Responses"


class ImmutableVersion(Exception):
    """A saved version was about to be changed or deleted."""


class PromptVersion(models.Model):
    """One immutable version of a prompt: saved once, never updated, never deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=VersionKind.choices, default=VersionKind.CHAT)
    messages = models.JSONField(default=list, blank=True)
    template = models.TextField(blank=True)
    variables_schema = models.JSONField(default=dict)
    model = models.CharField(max_length=100)
    parameters = models.JSONField(default=dict, blank=True)
    output_schema = models.JSONField(null=True, blank=True)
    api_style = models.CharField(
        max_length=10, choices=ApiStyle.choices, default=ApiStyle.DEFAULT, blank=True
    )
    note = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    content_hash = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["prompt", "-number"]
        constraints = [
            # The backstop behind the row lock in prompt_version_create: a number is never reused.
            models.UniqueConstraint(
                fields=["prompt", "number"], name="prompts_version_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prompt_id} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableVersion("A saved prompt version cannot be changed; save a new version.")
        self.content_hash = content_hash(self.content())
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableVersion("A saved prompt version cannot be deleted.")

    def content(self) -> dict:
        return {field: getattr(self, field) for field in CONTENT_FIELDS}


class PromptLabel(models.Model):
    """A named pointer (``production``, ``staging``, ...) at one version of a prompt."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=36, validators=[RegexValidator(LABEL_PATTERN)])
    version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="labels")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["prompt", "name"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "name"], name="prompts_label_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prompt_id}:{self.name}"


class PromptLabelMove(models.Model):
    """One move of a label (history): from which version to which (None = removed), by whom, why."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="label_moves")
    label = models.CharField(max_length=36)
    from_version = models.PositiveIntegerField(null=True, blank=True)
    to_version = models.PositiveIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["prompt", "label", "-created_at"], name="prompts_move_history")
        ]

    def __str__(self) -> str:
        return f"{self.prompt_id}:{self.label} {self.from_version}->{self.to_version}"


class Configuration(models.Model):
    """A stored value of a configuration key declared in ``prompts.configuration`` (else the default)."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.JSONField(null=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

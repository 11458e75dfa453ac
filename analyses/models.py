"""An analysis: a prompt version run against the LLM, with its provenance, attempts, usage and cost.

Three tables: ``Analysis`` (one request and its outcome), ``AnalysisAttempt`` (each call to the
LLM), ``UsageMonth`` (a user's tokens and cost this month, used and reserved: the row that budget
admission locks), plus ``IdempotencyKey`` (a client's key for 24 h).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from analyses.documents import analysis_changed
from core.models import TimestampedModel

COST = {"max_digits": 14, "decimal_places": 8, "default": 0}


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
# What an attempt's outcome sets: the result, the error and the usage it was billed for.
OUTCOME_FIELDS = (
    "result_text",
    "result_json",
    "error",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_usd",
)


class Analysis(TimestampedModel):
    """One run of a prompt version for a user: what was sent, what came back, what it cost."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analyses"
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The exact version resolved at creation: a later label move changes nothing here.
    prompt = models.ForeignKey("prompts.Prompt", on_delete=models.PROTECT, related_name="+")
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", on_delete=models.PROTECT, related_name="analyses"
    )
    label = models.CharField(max_length=36, blank=True)  # the label asked for, if any
    model = models.CharField(max_length=100)
    api_style = models.CharField(max_length=10, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    messages = models.JSONField(default=list)
    messages_sha256 = models.CharField(max_length=64)
    files = models.ManyToManyField("files.File", blank=True, related_name="analyses")
    # What the files were when the analysis was made: [{id, name, sha256, content_type}].
    input_files = models.JSONField(default=list, blank=True)

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    result_text = models.TextField(blank=True)
    result_json = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)  # {code, message, retryable, upstream_status}

    input_tokens = models.PositiveBigIntegerField(default=0)
    cached_input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    reasoning_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(**COST)

    # Budget admission: what was reserved and in which month's row, released or settled once.
    reserved_tokens = models.PositiveBigIntegerField(default=0)
    reserved_cost_usd = models.DecimalField(**COST)
    budget_month = models.DateField(null=True, blank=True)

    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)  # last time it entered the queue
    queue_wait_ms = models.PositiveIntegerField(null=True, blank=True)

    cache_hit = models.BooleanField(default=False)
    cache_key = models.CharField(max_length=64, db_index=True)
    cached_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    attempts = models.PositiveSmallIntegerField(default=0)
    # attempts made before the last manual retry: the attempt budget counts from there.
    attempts_before_run = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    # The worker holding the analysis: its token, and when the hold lapses (worker presumed dead).
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="analyses_owner_created"),
            models.Index(
                fields=["lease_expires_at"],
                name="analyses_running_lease",
                condition=Q(status="running"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        created = self._state.adding
        super().save(*args, **kwargs)
        if not created:  # a new row has no cached read to drop
            analysis_changed(self.pk)  # a poll's cached read of it is dropped on commit

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class AnalysisAttempt(models.Model):
    """One call to the LLM for an analysis, successful or not."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    model = models.CharField(max_length=100, blank=True)  # the model the server says it used
    response_id = models.CharField(max_length=200, blank=True)
    upstream_request_id = models.CharField(max_length=200, blank=True)
    finish_reason = models.CharField(max_length=40, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    input_tokens = models.PositiveBigIntegerField(default=0)
    cached_input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    reasoning_tokens = models.PositiveBigIntegerField(default=0)
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["analysis", "number"]
        constraints = [
            models.UniqueConstraint(fields=["analysis", "number"], name="analyses_attempt_unique")
        ]

    def __str__(self) -> str:
        return f"{self.analysis_id} #{self.number}"


class UsageMonth(models.Model):
    """A user's LLM usage in one calendar month (UTC): spent, and reserved by analyses in flight.

    Admission locks this row (``select_for_update``) so concurrent submissions see each other's
    reservations: only what fits the budget is admitted.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month
    used_tokens = models.BigIntegerField(default=0)
    used_cost_usd = models.DecimalField(**COST)
    reserved_tokens = models.BigIntegerField(default=0)
    reserved_cost_usd = models.DecimalField(**COST)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "month"], name="analyses_usage_month_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.month:%Y-%m}"


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` for one submission, kept 24 h.

    The unique constraint is what makes two concurrent requests with one key create one analysis.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="analyses_idempotency_unique")
        ]

    def __str__(self) -> str:
        return self.key

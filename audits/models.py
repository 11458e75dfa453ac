"""The audit trail: append-only events chained by HMAC, the chain head, and prune checkpoints."""

import uuid

from django.db import models


class Source(models.TextChoices):
    API = "api"
    ADMIN = "admin"
    TASK = "task"
    COMMAND = "command"
    EXTERNAL = "external"
    SYSTEM = "system"


class ActorType(models.TextChoices):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"


class ReviewStatus(models.TextChoices):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AuditEvent(models.Model):
    """One thing that happened. Everything above ``hmac`` is sealed by the chain; the review and
    redaction fields below it are the only parts that may change afterwards."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sequence = models.BigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=100)
    entity_type = models.CharField(max_length=50)
    entity_id = models.CharField(max_length=64, blank=True)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    # Plain ids, not foreign keys: deleting a user must neither cascade into nor rewrite the trail.
    actor_user_id = models.CharField(max_length=36, blank=True)
    actor_api_key_id = models.CharField(max_length=36, blank=True)
    actor_label = models.CharField(max_length=254)
    request_id = models.CharField(max_length=128, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    details = models.JSONField(default=dict, blank=True)
    # The chain seals this digest, not the details themselves, so redaction keeps it valid.
    details_digest = models.CharField(max_length=64)
    hmac = models.CharField(max_length=64)

    status = models.CharField(
        max_length=14, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    review_note = models.TextField(blank=True)
    reviewed_by_id = models.CharField(max_length=36, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    redacted_by_id = models.CharField(max_length=36, blank=True)

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            # Lists are newest first and usually filtered by one of these; sequence breaks ties
            # and gives keyset pagination a stable order.
            models.Index(fields=["action", "-sequence"], name="audit_action_seq"),
            models.Index(fields=["entity_type", "entity_id", "-sequence"], name="audit_entity_seq"),
            models.Index(fields=["actor_user_id", "-sequence"], name="audit_actor_seq"),
            models.Index(fields=["status", "-sequence"], name="audit_status_seq"),
            models.Index(fields=["occurred_at"], name="audit_occurred"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.entity_type}:{self.entity_id}"


class AuditChainHead(models.Model):
    """The single row holding the last sequence and HMAC; locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    sequence = models.BigIntegerField(default=0)
    hmac = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"head #{self.sequence}"


class AuditCheckpoint(models.Model):
    """Left by pruning: the last removed event's sequence and HMAC, signed, so the chain that
    remains still verifies from here."""

    sequence = models.BigIntegerField(unique=True)
    hmac = models.CharField(max_length=64)
    pruned_count = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence}"

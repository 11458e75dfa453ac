"""Abstract bases for domain models (no tables of its own: the kernel has no migrations)."""

import uuid

from django.db import models


class TimestampedModel(models.Model):
    """A row with a UUID primary key (public ids are never sequential) and its timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

"""System configuration: one registry of declared keys (schema, default, description), DB-stored values.

``config_get(key)`` is what every app reads: the stored value or the declared default. Every
stored value sits in ONE entry of the shared cache (Redis in production; a small table), read
once per request or task (``core.context.memoised``) and dropped from the cache when a write
commits, so every process sees a PUT as soon as it returns. Undeclared keys can't be stored; deployment concerns
(secrets, hosts, URLs) stay in environment settings.
"""

import copy
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from jsonschema import Draft202012Validator

from audits.services import audit_event_record
from core import context
from core.errors import InvalidInput, NotFound
from prompts.models import Configuration

logger = structlog.get_logger("parecer.configuration")

CACHE_KEY = "prompts:config:v3:stored"
# A backstop only: writes drop the cached value on commit. The TTL bounds how long a read that
# raced a write (read the old row before the commit, cached it after) can serve the old value.
CACHE_SECONDS = 60

_DECIMAL = {"type": "string", "pattern": r"^\d{1,9}(\.\d{1,9})?$"}
_MIME = {"type": "string", "pattern": r"^[a-z0-9.+-]+/[a-z0-9.+-]+$"}


@dataclass(frozen=True)
class ConfigKey:
    key: str
    schema: dict
    # A value, or the name of a Django setting read at each use: the upload limits default to the
    # deployment's settings (UPLOAD_MAX_BYTES, ...), so an operator's environment still applies
    # until an admin stores a value here.
    fallback: Any
    description: str
    from_setting: bool = False

    @property
    def default(self) -> Any:
        return getattr(settings, self.fallback) if self.from_setting else self.fallback


def _declare(*keys: ConfigKey) -> dict[str, ConfigKey]:
    for declared in keys:
        Draft202012Validator.check_schema(declared.schema)
        if not declared.from_setting:
            Draft202012Validator(declared.schema).validate(declared.default)
    return {declared.key: declared for declared in keys}


REGISTRY: dict[str, ConfigKey] = _declare(
    ConfigKey(
        "default_model",
        {"type": "string", "minLength": 1, "maxLength": 100},
        "gpt-4o-mini",
        "Model a new prompt version uses when it names none.",
    ),
    ConfigKey(
        "allowed_models",
        {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
        ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "o4-mini"],
        "Models a prompt version may name.",
    ),
    ConfigKey(
        "model_prices",
        {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"input": _DECIMAL, "cached_input": _DECIMAL, "output": _DECIMAL},
                "required": ["input", "cached_input", "output"],
                "additionalProperties": False,
            },
        },
        {
            "gpt-4o-mini": {"input": "0.15", "cached_input": "0.075", "output": "0.60"},
            "gpt-4o": {"input": "2.50", "cached_input": "1.25", "output": "10.00"},
            "gpt-4.1-mini": {"input": "0.40", "cached_input": "0.10", "output": "1.60"},
            "gpt-4.1": {"input": "2.00", "cached_input": "0.50", "output": "8.00"},
            "o4-mini": {"input": "1.10", "cached_input": "0.275", "output": "4.40"},
        },
        "USD per million input, cached-input and output tokens, per model (decimal strings).",
    ),
    ConfigKey(
        "budget_monthly_tokens",
        {"type": ["integer", "null"], "minimum": 0},
        None,
        "Tokens each user may spend per calendar month (null: unlimited).",
    ),
    ConfigKey(
        "budget_monthly_cost_usd",
        {"oneOf": [_DECIMAL, {"type": "null"}]},
        None,
        "USD each user may spend per calendar month, a decimal string (null: unlimited).",
    ),
    ConfigKey(
        "analysis_attempt_budget",
        {"type": "integer", "minimum": 1, "maximum": 20},
        3,
        "Attempts an analysis gets (first call plus retries) before it fails.",
    ),
    ConfigKey(
        "analysis_cache_ttl_seconds",
        {"type": "integer", "minimum": 0, "maximum": 31536000},
        86400,
        "How long an identical analysis result is reused (0: never).",
    ),
    ConfigKey(
        "upload_max_bytes",
        {"type": "integer", "minimum": 1, "maximum": 1073741824},
        "UPLOAD_MAX_BYTES",
        "Largest file a user may upload, in bytes (default: the UPLOAD_MAX_BYTES setting, 25 MiB).",
        from_setting=True,
    ),
    ConfigKey(
        "storage_quota_bytes",
        {"type": "integer", "minimum": 0},
        "STORAGE_QUOTA_BYTES",
        "Total bytes of files each user may keep (default: the STORAGE_QUOTA_BYTES setting, 1 GiB).",
        from_setting=True,
    ),
    ConfigKey(
        "upload_allowed_types",
        {"type": "array", "items": _MIME, "uniqueItems": True},
        "UPLOAD_ALLOWED_TYPES",
        "MIME types (as sniffed from the content) a user may upload (default: the "
        "UPLOAD_ALLOWED_TYPES setting: text, Markdown, CSV, JSON, PDF, DOCX, PNG, JPEG, WebP).",
        from_setting=True,
    ),
)


def config_key(key: str) -> ConfigKey:
    """The declaration of ``key``; 404 ``configuration_not_found`` for an undeclared one."""
    declared = REGISTRY.get(key)
    if declared is None:
        raise NotFound(f"No configuration key '{key}'.", code="configuration_not_found")
    return declared


def _stored_load() -> dict[str, Any]:
    try:
        stored = cache.get(CACHE_KEY)
    except Exception as exc:  # a cache outage must not stop reads: fall back to the database
        logger.warning("configuration_cache_failed", error=str(exc)[:200])
        return dict(Configuration.objects.values_list("key", "value"))
    if stored is None:
        stored = dict(Configuration.objects.values_list("key", "value"))
        try:
            cache.set(CACHE_KEY, stored, CACHE_SECONDS)
        except Exception as exc:
            logger.warning("configuration_cache_failed", error=str(exc)[:200])
    return stored


def config_get(key: str) -> Any:
    """The typed value of a declared key: the stored value, else the declared default (a
    setting-backed default follows the settings). A copy: callers may change what they get."""
    declared = config_key(key)
    stored = context.memoised("configuration", _stored_load)
    return copy.deepcopy(stored[key]) if key in stored else declared.default


def config_validate(*, key: str, value: Any) -> None:
    """422 ``configuration_invalid`` naming why ``value`` fails the key's schema."""
    declared = config_key(key)
    errors = sorted(
        Draft202012Validator(declared.schema).iter_errors(value), key=lambda e: list(e.path)
    )
    if errors:
        details = [
            {
                "field": ".".join(["value", *(str(p) for p in error.absolute_path)]),
                "in": "body",
                "reason": error.message,
                "type": error.validator,
            }
            for error in errors
        ]
        raise InvalidInput(
            f"Invalid value for '{key}': {errors[0].message}",
            code="configuration_invalid",
            details=details,
        )


def _forget(key: str) -> None:
    context.memo_forget("configuration")
    try:
        cache.delete(CACHE_KEY)
    except Exception as exc:
        logger.warning("configuration_cache_failed", key=key, error=str(exc)[:200])


def config_set(*, key: str, value: Any, actor) -> Any:
    """Store a validated value for a declared key; audited with old and new value."""
    config_validate(key=key, value=value)
    with transaction.atomic():
        row = Configuration.objects.select_for_update().filter(key=key).first()
        old = REGISTRY[key].default if row is None else row.value
        Configuration.objects.update_or_create(
            key=key, defaults={"value": value, "updated_by": actor}
        )
        audit_event_record(
            action="configuration.updated",
            entity_type="configuration",
            entity_id=key,
            details={"key": key, "old": old, "new": value},
        )
        _forget(key)  # now, for this transaction's own reads; again on commit, for racing readers
        transaction.on_commit(lambda: _forget(key))
    return value


def config_reset(*, key: str, actor) -> Any:
    """Delete the stored value so the declared default applies again; audited."""
    declared = config_key(key)
    with transaction.atomic():
        row = Configuration.objects.select_for_update().filter(key=key).first()
        if row is not None:
            old = row.value
            row.delete()
            audit_event_record(
                action="configuration.reset",
                entity_type="configuration",
                entity_id=key,
                details={"key": key, "old": old, "new": declared.default},
            )
        _forget(key)  # now, for this transaction's own reads; again on commit, for racing readers
        transaction.on_commit(lambda: _forget(key))
    return declared.default


def config_entries() -> list[dict]:
    """Every declared key with its value, default and whether it is stored (for lists and admin)."""
    rows = {row.key: row for row in Configuration.objects.select_related("updated_by")}
    return [config_entry(key=key, row=rows.get(key), looked_up=True) for key in REGISTRY]


def config_entry(*, key: str, row: Configuration | None = None, looked_up: bool = False) -> dict:
    """One declared key as the API shows it."""
    declared = config_key(key)
    if not looked_up:
        row = Configuration.objects.select_related("updated_by").filter(key=key).first()
    return {
        "key": key,
        "value": declared.default if row is None else row.value,
        "default": declared.default,
        "is_default": row is None,
        "value_schema": declared.schema,
        "description": declared.description,
        "updated_at": row.updated_at if row else None,
        "updated_by": row.updated_by.email if row and row.updated_by else None,
    }

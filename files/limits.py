"""Upload limits, from the configuration registry (prompts app; defaults from settings).

The one place that knows where limits come from; nothing else in the app reads them directly.
"""

from typing import Any

from prompts import configuration


def files_limit(key: str) -> Any:
    """The value of configuration ``key`` (``upload_max_bytes``, ``storage_quota_bytes``,
    ``upload_allowed_types``)."""
    return configuration.config_get(key)

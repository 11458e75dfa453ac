"""``STORAGES["default"]`` from the environment: local files unless an S3-compatible store is set.

Two ways to choose S3 (django-storages' ``S3Storage``), documented in docs/operations.md:

- ``STORAGE_URL=s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint_url=...&region=...&addressing_style=path``
- or explicit ``AWS_STORAGE_BUCKET_NAME`` (+ ``AWS_S3_ENDPOINT_URL``, ``AWS_S3_REGION_NAME``,
  ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_LOCATION``, ``AWS_S3_ADDRESSING_STYLE``).

Credentials left empty fall back to boto3's own chain (instance role, ``~/.aws``).
"""

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import environ

FILESYSTEM = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3_BACKEND = "storages.backends.s3.S3Storage"


def _s3_options(
    *,
    bucket: str,
    endpoint_url: str,
    region: str,
    access_key: str,
    secret_key: str,
    location: str,
    addressing_style: str,
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": location.strip("/"),
        # Keys are server-generated UUIDs: no need for the existence check before each write.
        "file_overwrite": True,
        "default_acl": None,
        "querystring_auth": True,
        # S3File spools a read into memory by default (0 = unlimited); spill to disk past 1 MiB.
        "max_memory_size": 1024 * 1024,
    }
    for key, value in (
        ("endpoint_url", endpoint_url),
        ("region_name", region),
        ("access_key", access_key),
        ("secret_key", secret_key),
        ("addressing_style", addressing_style),
    ):
        if value:
            options[key] = value
    return options


def default_storage_from_env(env: environ.Env) -> dict[str, Any]:
    """The ``STORAGES["default"]`` entry this environment asks for."""
    url = env.str("STORAGE_URL", default="")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("s3", "file"):
            raise ValueError(f"STORAGE_URL must be s3://... or file://... (got {parts.scheme}://)")
        if parts.scheme == "file":
            return {**FILESYSTEM, "OPTIONS": {"location": unquote(parts.path)}}
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return {
            "BACKEND": S3_BACKEND,
            "OPTIONS": _s3_options(
                bucket=parts.hostname or "",
                endpoint_url=query.get("endpoint_url", ""),
                region=query.get("region", ""),
                access_key=unquote(parts.username or "")
                or env.str("AWS_ACCESS_KEY_ID", default=""),
                secret_key=unquote(parts.password or "")
                or env.str("AWS_SECRET_ACCESS_KEY", default=""),
                location=unquote(parts.path),
                addressing_style=query.get("addressing_style", ""),
            ),
        }
    bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="")
    if not bucket:
        return dict(FILESYSTEM)
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": _s3_options(
            bucket=bucket,
            endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
            region=env.str("AWS_S3_REGION_NAME", default=""),
            access_key=env.str("AWS_ACCESS_KEY_ID", default=""),
            secret_key=env.str("AWS_SECRET_ACCESS_KEY", default=""),
            location=env.str("AWS_LOCATION", default=""),
            addressing_style=env.str("AWS_S3_ADDRESSING_STYLE", default=""),
        ),
    }

"""Production: refuses to start without real secrets; `manage.py check --deploy` is clean."""

import os

from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

# Production mails through SMTP; without EMAIL_URL that is the conventional local relay.
os.environ.setdefault("EMAIL_URL", "smtp://localhost:25")

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, AUDIT_HMAC_KEY, DEBUG, JWT_SIGNING_KEY, SECRET_KEY, env

_WEAK_MARKERS = ("insecure", "change-me", "dev-")


def _require_strong(name: str, value: str, *, min_length: int = 50) -> None:
    if len(value) < min_length or any(marker in value for marker in _WEAK_MARKERS):
        raise ImproperlyConfigured(
            f"{name} must be set to a random value of at least {min_length} characters in "
            f"production (generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )


if DEBUG:
    raise ImproperlyConfigured("DEBUG must be false in production settings.")
_require_strong("SECRET_KEY", SECRET_KEY)
_require_strong("JWT_SIGNING_KEY", JWT_SIGNING_KEY, min_length=32)
_require_strong("AUDIT_HMAC_KEY", AUDIT_HMAC_KEY, min_length=32)
if "ALLOWED_HOSTS" not in env.ENVIRON:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set explicitly in production.")
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list real host names (no '*') in production.")

# TLS is terminated by the proxy in front of gunicorn; it must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Static files: `collectstatic` (Dockerfile, `make serve`) writes hashed, gzip- and brotli-compressed
# copies into STATIC_ROOT; WhiteNoise serves them with a far-future immutable Cache-Control (the
# name changes when the content does). A page naming a file collectstatic did not see fails loudly.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
# Source maps are fetched only by a developer's browser tools; compressing them (the Swagger and
# Redoc maps are megabytes) would triple collectstatic's time for nothing.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

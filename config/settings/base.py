"""Settings shared by every environment.

Every knob is read once here from the environment (or a ``<NAME>_FILE`` secret file, or ``.env``)
with a safe embedded default: SQLite, local-memory cache, local files, console e-mail.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# FileAwareEnv: SECRET_KEY_FILE=/run/secrets/key works for any variable (Docker/Kubernetes secrets).
env = environ.FileAwareEnv()
# The test settings never read a developer's .env: its secrets and providers (a real OpenAI key,
# an SMTP relay) must not leak into a test run. Everyone else reads it; the real environment wins.
if os.environ.get("DJANGO_SETTINGS_MODULE") != "config.settings.test":
    environ.FileAwareEnv.read_env(BASE_DIR / ".env", overwrite=False)

SERVICE_NAME = "parecer"
SERVICE_VERSION = "0.1.0"

SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-key-change-me-0123456789abcdef0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = True
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-api-key",
    "x-csrftoken",
    "x-request-id",
    "idempotency-key",
)

INSTALLED_APPS = [
    # The back office's theme (before django.contrib.admin: its templates win); see docs/operations.md.
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "ninja",
    "django_tasks_db",
    "core",
    "audits",
    "accounts",
    "prompts",
    "files",
    "analyses",
]

MIDDLEWARE = [
    "config.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, before sessions/auth/CSRF: nothing below is needed for them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.middleware.ApiErrorEnvelopeMiddleware",
    # Before CSRF and authentication, which may parse the body: uploads stream from the first byte.
    "files.receiving.UploadStreamingMiddleware",
    # Browser* are Django's own, skipped for an API call with a token or key (config/browser_middleware.py).
    "config.browser_middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.browser_middleware.BrowserAuthenticationMiddleware",
    "config.middleware.AdminActorMiddleware",
    "config.browser_middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"
API_PREFIX = "/api/"
# Only the admin site signs in with a session; its login page posts without a `next` field.
LOGIN_URL = "/" + ADMIN_URL + "login/"
LOGIN_REDIRECT_URL = "/" + ADMIN_URL

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Back office (django-unfold) -------------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "Parecer back office",
    "SITE_HEADER": "Parecer",
    "SITE_SUBHEADER": "Back office",
    "SITE_SYMBOL": "fact_check",
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": "config.backoffice.favicon_url"},
    ],
    # "View site": the API is the product; its docs are the closest thing to a site.
    "SITE_URL": "/api/v1/docs",
    "SHOW_HISTORY": False,  # the audit trail is the history; LogEntry would be a second, unsealed one
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "config.backoffice.dashboard_callback",
    # Sign-in through the API's lockout, throttle and audit (accounts/services/admin_sessions.py).
    "LOGIN": {"form": "accounts.admin_forms.AdminLoginForm"},
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "config.backoffice.sidebar_navigation",
    },
}

# Content-Security-Policy on every response (the admin and the API docs are the pages it protects):
# only this origin's scripts, styles, images and fonts; no plugins, no framing, forms post here.
# Two allowances, both forced by the admin theme (django-unfold), proven by tests/browser: Alpine.js
# evaluates its x-* attribute expressions with Function() ('unsafe-eval'), and the theme emits
# <style> blocks and style attributes ('unsafe-inline' for styles only, never for scripts). An
# inline script must carry the request's nonce ({% csp_nonce_attr %} / {{ csp_nonce }}).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE, CSP.UNSAFE_EVAL],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}


# --- Database ---------------------------------------------------------------------------------
def _process_role(argv: list[str]) -> str:
    """``web`` (gunicorn, runserver), ``worker`` (task workers) or ``command``: it picks the
    database time limits below (``PROCESS_ROLE`` overrides)."""
    program = Path(argv[0]).name if argv else ""
    subcommand = argv[1] if len(argv) > 1 else ""
    if program in ("gunicorn", "uvicorn") or subcommand == "runserver":
        return "web"
    if subcommand in ("task_worker", "db_worker"):
        return "worker"
    return "command"


PROCESS_ROLE = env.str("PROCESS_ROLE", default=_process_role(sys.argv))
# Every statement and every lock wait is bounded: a request gives up (503 database_timeout)
# instead of holding a server thread behind a long lock. Workers and commands (migrations,
# prunes) legitimately run longer statements, so their defaults are longer; 0 disables.
_DB_LIMITS = {"web": (5.0, 2.0), "worker": (120.0, 10.0), "command": (1800.0, 30.0)}
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=_DB_LIMITS[PROCESS_ROLE][0])
DB_LOCK_TIMEOUT = env.float("DB_LOCK_TIMEOUT", default=_DB_LIMITS[PROCESS_ROLE][1])
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=3)
DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=3.0)
DB_POOL_MIN_SIZE = env.int("DB_POOL_MIN_SIZE", default=2)
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}


def _tune_database(db: dict) -> dict:
    """PostgreSQL gets Django's psycopg 3 pool behind a circuit breaker (``config.postgres``)
    and bounded statements; SQLite gets WAL so the worker and server coexist."""
    options = db.setdefault("OPTIONS", {})
    if db["ENGINE"] in ("django.db.backends.postgresql", "config.postgres"):
        db["ENGINE"] = "config.postgres"
        db["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
        options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
        # Session settings sent in the startup packet: no extra round trip per connection.
        options["options"] = " ".join(
            [
                options.get("options", ""),
                f"-c statement_timeout={int(DB_STATEMENT_TIMEOUT * 1000)}",
                f"-c lock_timeout={int(DB_LOCK_TIMEOUT * 1000)}",
            ]
        ).strip()
        options["pool"] = {
            "min_size": DB_POOL_MIN_SIZE,
            "max_size": DB_POOL_MAX_SIZE,
            # A request waits at most this long for a connection; the breaker then fails fast.
            "timeout": DB_POOL_TIMEOUT,
            # psycopg_pool backs off reconnecting (1, 2, 4 ... s) until this budget (default
            # 300 s) is spent: recovery lag grew with the outage. Giving up after 3 s lets the
            # next checkout start a fresh attempt, so recovery takes seconds after any outage.
            "reconnect_timeout": 3.0,
            # Idle connections are checked before being lent (see config.postgres.base).
            "check": "config.postgres.base.check_if_idle",
            "max_idle": 300,
            "max_lifetime": 3600,
        }
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        options.setdefault("timeout", 20)
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault(
            "init_command",
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        )
    return db


_tune_database(DATABASES["default"])

# --- Cache, sessions --------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
if REDIS_URL:
    from config.redis_breaker import BreakerConnection

    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "parecer",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
                "CONNECTION_POOL_KWARGS": {
                    "max_connections": 50,
                    "retry_on_timeout": False,
                    # Fail fast while Redis is known down (config/redis_breaker.py).
                    "connection_class": BreakerConnection,
                },
            },
        }
    }
    SESSION_ENGINE = "config.sessions"  # a Redis outage is a 503, never a silent logout
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Rendered reads kept in the cache (core/document_cache.py) need a cache all processes share: with
# the local-memory cache a worker's change could not drop the web process's copy.
DOCUMENT_CACHE = env.bool("DOCUMENT_CACHE", default=bool(REDIS_URL))
if DOCUMENT_CACHE and not REDIS_URL:
    raise ImproperlyConfigured("DOCUMENT_CACHE needs REDIS_URL: a per-process cache goes stale.")

# --- Auth (accounts) --------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "accounts.hashers.TunedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_MEMORY_KIB = env.int("ARGON2_MEMORY_KIB", default=65536)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=2)
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default=SECRET_KEY)
JWT_ISSUER = env.str("JWT_ISSUER", default="parecer")
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="parecer-api")
ACCESS_TOKEN_TTL = timedelta(seconds=env.int("ACCESS_TOKEN_TTL", default=15 * 60))
REFRESH_TOKEN_TTL = timedelta(seconds=env.int("REFRESH_TOKEN_TTL", default=14 * 24 * 3600))
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
REGISTRATION_OPEN = env.bool("REGISTRATION_OPEN", default=True)
LOGIN_LOCKOUT_ATTEMPTS = env.int("LOGIN_LOCKOUT_ATTEMPTS", default=5)
LOGIN_LOCKOUT_WINDOW = env.int("LOGIN_LOCKOUT_WINDOW", default=15 * 60)
THROTTLE_RATES = {
    "register": env.str("THROTTLE_REGISTER", default="10/h"),
    "login": env.str("THROTTLE_LOGIN", default="30/min"),
    "refresh": env.str("THROTTLE_REFRESH", default="60/min"),
    "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="5/h"),
    # Per signed-in user (every session and API key of one person share it), unsafe methods only.
    "writes": env.str("THROTTLE_WRITES", default="120/min"),
    # Verification mails: per user (POST /auth/email/verify) and per recipient address.
    "email_verification": env.str("THROTTLE_EMAIL_VERIFICATION", default="5/h"),
    "email_verification_address": env.str("THROTTLE_EMAIL_VERIFICATION_ADDRESS", default="5/h"),
}
API_KEYS_MAX_ACTIVE = env.int("API_KEYS_MAX_ACTIVE", default=20)
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000")
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=True)

# --- Audits, uploads, LLM (reserved for later domains) ----------------------------------------
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="dev-audit-hmac-key-change-me-0123456789ab")
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=400)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Files: fallbacks while the configuration registry (prompts) has not landed (files/limits.py).
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=25 * 1024 * 1024)
STORAGE_QUOTA_BYTES = env.int("STORAGE_QUOTA_BYTES", default=1024 * 1024 * 1024)
UPLOAD_ALLOWED_TYPES = env.list(
    "UPLOAD_ALLOWED_TYPES",
    default=[
        "text/plain",
        "text/markdown",
        "text/csv",
        "application/json",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/png",
        "image/jpeg",
        "image/webp",
    ],
)
# Caps on extraction of hostile documents (files/extraction.py runs in a child process).
FILES_EXTRACT_TIMEOUT = env.int("FILES_EXTRACT_TIMEOUT", default=60)
FILES_EXTRACT_MEMORY_BYTES = env.int("FILES_EXTRACT_MEMORY_BYTES", default=1024 * 1024 * 1024)
FILES_EXTRACT_MAX_PAGES = env.int("FILES_EXTRACT_MAX_PAGES", default=2000)
FILES_TEXT_MAX_CHARS = env.int("FILES_TEXT_MAX_CHARS", default=2_000_000)
FILES_DOCX_MAX_UNCOMPRESSED = env.int("FILES_DOCX_MAX_UNCOMPRESSED", default=200 * 1024 * 1024)
FILES_ZIP_MAX_RATIO = env.int("FILES_ZIP_MAX_RATIO", default=100)
FILES_IMAGE_MAX_PIXELS = env.int("FILES_IMAGE_MAX_PIXELS", default=50_000_000)
# A file still uploaded/processing this long after its last change is re-enqueued (worker died).
FILES_STUCK_AFTER = env.int("FILES_STUCK_AFTER", default=600)
FILES_EXTRACT_MAX_ATTEMPTS = env.int("FILES_EXTRACT_MAX_ATTEMPTS", default=3)
# The LLM (analyses/llm/): any OpenAI-compatible server. An empty key means "not configured".
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")  # empty: the SDK's (api.openai.com)
OPENAI_ORGANIZATION = env.str("OPENAI_ORGANIZATION", default="")
OPENAI_PROJECT = env.str("OPENAI_PROJECT", default="")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=60.0)  # whole call, seconds
OPENAI_CONNECT_TIMEOUT = env.float("OPENAI_CONNECT_TIMEOUT", default=5.0)
OPENAI_API_STYLE = env.str("OPENAI_API_STYLE", default="chat")  # chat | responses
# Analyses (analyses/): leases, retries, waiting; budgets and prices live in configuration.
# A worker's hold on a running analysis; must outlast OPENAI_TIMEOUT (the call's hard deadline).
ANALYSIS_LEASE_SECONDS = env.int("ANALYSIS_LEASE_SECONDS", default=int(OPENAI_TIMEOUT) + 60)
ANALYSIS_REAPER_INTERVAL = env.int("ANALYSIS_REAPER_INTERVAL", default=30)
# A queued analysis this old gets a fresh task (its own may have been lost); duplicates are no-ops.
ANALYSIS_ORPHAN_AFTER = env.int("ANALYSIS_ORPHAN_AFTER", default=900)
ANALYSIS_RETRY_BASE_SECONDS = env.float("ANALYSIS_RETRY_BASE_SECONDS", default=2.0)
ANALYSIS_RETRY_CAP_SECONDS = env.float("ANALYSIS_RETRY_CAP_SECONDS", default=120.0)
# Reserved at admission when a prompt version sets no max_output_tokens.
ANALYSIS_DEFAULT_MAX_OUTPUT_TOKENS = env.int("ANALYSIS_DEFAULT_MAX_OUTPUT_TOKENS", default=4096)
ANALYSIS_MAX_WAITERS = env.int("ANALYSIS_MAX_WAITERS", default=16)  # ?wait=N holders per process
# Waiters wake on a Redis message; this database read is the backstop (no Redis, an outage).
ANALYSIS_WAIT_DB_CHECK = env.float("ANALYSIS_WAIT_DB_CHECK", default=2.0)
ANALYSIS_WORKER_THREADS = env.int("ANALYSIS_WORKER_THREADS", default=16)
# How long a worker thread waits for a pooled database connection (web requests: DB_POOL_TIMEOUT).
ANALYSIS_WORKER_DB_POOL_TIMEOUT = env.float("ANALYSIS_WORKER_DB_POOL_TIMEOUT", default=30.0)

# --- Request bodies ---------------------------------------------------------------------------
# JSON bodies above this are refused with 413; file uploads stream separately (files app).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_MAX_BYTES", default=1024 * 1024)
# Uploads spool to disk from the first byte (files/upload_handler.py; the only handler is the
# temporary-file one). Not 0: under ASGI this also sizes the body's SpooledTemporaryFile, and 0
# there means "never roll over to disk".
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=None)
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]

# --- Files, static, e-mail ----------------------------------------------------------------------
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATIC_URL = "/static/"
from config.storage_settings import default_storage_from_env  # noqa: E402

STORAGES = {
    "default": default_storage_from_env(env),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves /static/ from the process itself. On the embedded defaults it reads the apps'
# static folders directly (no collectstatic needed); production serves the collected, hashed and
# compressed copy (config/settings/prod.py).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
_email = env.email_url("EMAIL_URL", default="consolemail://")
_smtp_options = {
    "host": _email.get("EMAIL_HOST"),
    "port": _email.get("EMAIL_PORT"),
    "username": _email.get("EMAIL_HOST_USER"),
    "password": _email.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _email.get("EMAIL_USE_TLS", False),
    "use_ssl": _email.get("EMAIL_USE_SSL", False),
    "timeout": 10,
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": _smtp_options if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Parecer <no-reply@localhost>")

# --- Background tasks -------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
HOUSEKEEPING_INTERVAL = env.int("HOUSEKEEPING_INTERVAL", default=3600)
HEALTH_TASK_BACKLOG_MAX = env.int("HEALTH_TASK_BACKLOG_MAX", default=1000)
# /health remembers the LLM probe (GET /models) this long per process, so probes spare the provider.
HEALTH_LLM_PROBE_TTL = env.float("HEALTH_LLM_PROBE_TTL", default=30.0)
# ...and waits for a probe at most this long: a hanging provider never slows /health down.
HEALTH_LLM_PROBE_WAIT = env.float("HEALTH_LLM_PROBE_WAIT", default=1.0)
# A running task's lease (core.leases): renewed every third of it; a task whose worker stopped
# renewing is re-queued by the reaper (every TASK_REAPER_INTERVAL s), failed after
# TASK_MAX_ATTEMPTS claims.
TASK_LEASE_SECONDS = env.float("TASK_LEASE_SECONDS", default=60.0)
# Tasks one `manage.py task_worker` process runs at once (threads: tasks mostly wait on I/O).
TASK_WORKER_THREADS = env.int("TASK_WORKER_THREADS", default=1)
TASK_REAPER_INTERVAL = env.int("TASK_REAPER_INTERVAL", default=30)
TASK_MAX_ATTEMPTS = env.int("TASK_MAX_ATTEMPTS", default=3)

# --- i18n ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Observability ----------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")  # empty: /metrics is disabled (404)
NINJA_NUM_PROXIES = len(TRUSTED_PROXIES) or None
# Optional error reporting (config/sentry.py); empty: nothing is sent anywhere.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default=f"{SERVICE_NAME}@{SERVICE_VERSION}")

from config.logging import configure_logging  # noqa: E402

LOGGING = configure_logging(level=LOG_LEVEL, fmt=LOG_FORMAT)
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
NINJA_PAGINATION_CLASS = "config.pagination.PagePagination"

if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=SENTRY_RELEASE)

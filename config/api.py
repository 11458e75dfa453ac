"""The one NinjaAPI: every app's Router mounted under /api/v1, one error envelope, two auth schemes."""

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import NinjaAPI, Schema

from accounts.api import auth_router, users_router
from accounts.auth import API_AUTH
from analyses.api import router as analyses_router
from audits.api import router as audits_router
from config.errors import install_exception_handlers
from config.parser import StrictJSONParser
from core.errors import ErrorOut
from core.throttles import WriteRateThrottle
from files.api import router as files_router
from prompts.api import configurations_router
from prompts.api import router as prompts_router

# Outcomes every operation can have, whatever its own declared responses: they come from the
# shared machinery (parsing, throttling, outages), so they are declared once, here.
COMMON_ERRORS = {
    "400": "Malformed request (for example a body that is not JSON).",
    "413": "Request body too large.",
    "415": "Unsupported Content-Type.",
    "422": "Validation failed; `details` lists each field and reason.",
    "429": "Throttled; see `Retry-After`.",
    "500": "Unexpected error (never a traceback).",
    "503": "Database or cache unavailable; see `Retry-After`.",
}


class ParecerAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI schema declares the shared error envelope on every operation."""

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(ErrorOut.json_schema_defs())
        ref = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        }
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                errors = dict(COMMON_ERRORS)
                if operation.get("security"):
                    errors["401"] = "Missing, invalid or expired credentials."
                for status, description in errors.items():
                    # ninja keys declared responses by int: "401" next to 401 would be a duplicate
                    # key in the JSON, which Swagger UI refuses to render at all.
                    if int(status) not in responses:
                        responses.setdefault(status, {"description": description, **ref})
        return schema


api = ParecerAPI(
    title="Parecer API",
    version="1",
    description=(
        "AI-assisted analyses: versioned prompts, background LLM runs and a tamper-evident audit "
        "trail. Authenticate with `Authorization: Bearer <access token>` (POST /auth/login) or "
        '`X-API-Key: <key>`. Every error is `{"error": {"code", "message", "details", '
        '"request_id"}}`.'
    ),
    urls_namespace="api",
    auth=API_AUTH,
    parser=StrictJSONParser(),
    # Every write, per user (sessions and keys together); operations with their own throttles
    # (sign-in, e-mail verification) list it again where it should still apply.
    throttle=[WriteRateThrottle("writes")],
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_exception_handlers(api)

COLLECTIONS = {
    "auth": "/auth",
    "users": "/users",
    "audits": "/audits",
    "prompts": "/prompts",
    "configurations": "/configurations",
    "files": "/files",
    "analyses": "/analyses",
}

api.add_router(COLLECTIONS["auth"], auth_router, tags=["auth"])
api.add_router(COLLECTIONS["users"], users_router, tags=["users"])
api.add_router(COLLECTIONS["audits"], audits_router, tags=["audits"])
api.add_router(COLLECTIONS["prompts"], prompts_router, tags=["prompts"])
api.add_router(COLLECTIONS["configurations"], configurations_router, tags=["configurations"])
api.add_router(COLLECTIONS["files"], files_router, tags=["files"])
api.add_router(COLLECTIONS["analyses"], analyses_router, tags=["analyses"])


class ServiceInfoOut(Schema):
    name: str
    version: str
    links: dict[str, str]


def service_info(request: HttpRequest) -> dict:
    """Name, version and where everything is; served at / and at /api/v1/."""
    base = reverse("api:api-root").rstrip("/")
    links = {
        "self": base + "/",
        "docs": base + "/docs",
        "openapi": base + "/openapi.json",
        "health": "/health",
        "health_live": "/health/live",
        "metrics": "/metrics",
        "admin": "/" + settings.ADMIN_URL,
    }
    links.update({name: base + path for name, path in COLLECTIONS.items()})
    return {"name": settings.SERVICE_NAME, "version": settings.SERVICE_VERSION, "links": links}


@api.get("/", response=ServiceInfoOut, url_name="api-root", tags=["service"], auth=None)
def api_root(request: HttpRequest) -> dict:
    """Service name, version and links to the docs, the schema, health and every collection."""
    return service_info(request)

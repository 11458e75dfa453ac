"""The one NinjaAPI: every app's Router mounted under /api/v1, one error envelope, two auth schemes."""

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import NinjaAPI, Router, Schema
from ninja.operation import Operation

from accounts.api import auth_router, users_router
from accounts.auth import API_AUTH
from analyses.api import router as analyses_router
from audits.api import router as audits_router
from config.errors import install_exception_handlers
from config.openapi import contract_schema, operation_id_for
from config.parser import StrictJSONParser
from core.errors import ErrorOut
from core.renderer import OrjsonRenderer
from core.throttles import WriteRateThrottle
from files.api import router as files_router
from prompts.api import configurations_router
from prompts.api import router as prompts_router


class ParecerAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI schema is the contract: see config/openapi.py for its rules."""

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        return contract_schema(schema, error_schemas=ErrorOut.json_schema_defs())

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation_id_for(operation)


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
    renderer=OrjsonRenderer(),
    # Every write, per user (sessions and keys together); operations with their own throttles
    # (sign-in, e-mail verification) list it again where it should still apply.
    throttle=[WriteRateThrottle("writes")],
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_exception_handlers(api)

# Every app's Router, by the name its link has at / and /api/v1/.
ROUTERS: dict[str, tuple[str, Router]] = {
    "auth": ("/auth", auth_router),
    "users": ("/users", users_router),
    "audits": ("/audits", audits_router),
    "prompts": ("/prompts", prompts_router),
    "configurations": ("/configurations", configurations_router),
    "files": ("/files", files_router),
    "analyses": ("/analyses", analyses_router),
}
for _name, (_prefix, _router) in ROUTERS.items():
    api.add_router(_prefix, _router, tags=[_name])


def collection_links(base: str) -> dict[str, str]:
    """A link per router with a list at its root (GET ""), so the index grows as apps land."""
    links = {}
    for name, (prefix, router) in ROUTERS.items():
        root = router.path_operations.get("") or router.path_operations.get("/")
        if root and any("GET" in operation.methods for operation in root.operations):
            links[name] = base + prefix
    return links


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
    links["me"] = base + "/auth/me"
    links.update(collection_links(base))
    return {"name": settings.SERVICE_NAME, "version": settings.SERVICE_VERSION, "links": links}


@api.get(
    "/",
    response=ServiceInfoOut,
    url_name="api-root",
    tags=["service"],
    auth=None,
    operation_id="service_info",
)
def api_root(request: HttpRequest) -> dict:
    """Service name, version and links to the docs, the schema, health and every collection."""
    return service_info(request)

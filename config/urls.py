from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import path

from config import health, metrics
from config.api import api, service_info


def site_root(request: HttpRequest) -> JsonResponse:
    return JsonResponse(service_info(request))


admin.site.index_title = "Dashboard"

urlpatterns = [
    path("", site_root, name="site-root"),
    path("api/v1/", api.urls),
    path(settings.ADMIN_URL, admin.site.urls),
    path("health", health.ready, name="health"),
    path("health/live", health.live, name="health-live"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler400 = "config.errors.handler400"
handler403 = "config.errors.handler403"
handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"

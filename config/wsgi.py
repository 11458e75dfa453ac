"""The WSGI application that gunicorn (and Granian's WSGI interface) serve.

``GET /health/live`` is answered here, before Django: a liveness probe only has to show that this
worker accepts and answers requests, which needs none of Django's request work. Through Django it
cost twice what the server itself pays per request (docs/performance.md, "Serving speed"). It
answers exactly what ``config.health.live`` answers, but leaves no access line, request id or
metric: probes every few seconds would only add noise. Every other request goes to Django.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

LIVE_PATH = "/health/live"
LIVE_BODY = b'{"status": "ok"}'  # JsonResponse({"status": "ok"}), as config.health.live
LIVE_HEADERS = [
    ("Content-Type", "application/json"),
    ("Content-Length", str(len(LIVE_BODY))),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]

django_application = get_wsgi_application()


def application(environ, start_response):
    if environ.get("PATH_INFO") == LIVE_PATH and environ.get("REQUEST_METHOD") == "GET":
        start_response("200 OK", LIVE_HEADERS)
        return [LIVE_BODY]
    return django_application(environ, start_response)

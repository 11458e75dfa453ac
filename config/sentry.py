"""Optional error reporting to Sentry (``SENTRY_DSN``): unhandled errors only, scrubbed.

What leaves the process: the exception and its stack (no local variables), the route, method
and scrubbed headers, release, environment and the request id (to find the log lines). Never
request bodies (``max_request_body_size="never"``), cookies, user details
(``send_default_pii=False``) or any value whose key looks secret (the audit trail's
``secrets_scrub``, applied again in ``before_send``).
"""

from typing import Any
from urllib.parse import parse_qsl, urlencode

from core import context

_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-api-key", "x-csrftoken", "set-cookie"})


def secrets_scrub(value: Any) -> Any:
    # Imported late: settings load this module before the apps are ready.
    from audits.services import secrets_scrub as audit_secrets_scrub

    return audit_secrets_scrub(value)


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    request.pop("data", None)
    request.pop("cookies", None)
    headers = {
        name: "[redacted]" if name.lower() in _SECRET_HEADERS else value
        for name, value in (request.get("headers") or {}).items()
    }
    request["headers"] = secrets_scrub(headers)
    if isinstance(request.get("query_string"), str):
        pairs = secrets_scrub(dict(parse_qsl(request["query_string"], keep_blank_values=True)))
        request["query_string"] = urlencode(pairs)
    return request


def event_scrub(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """``before_send``: attach the request id, strip bodies, cookies and secret-looking values."""
    request_id = context.current().request_id
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    for key in ("extra", "contexts"):
        if isinstance(event.get(key), dict):
            event[key] = secrets_scrub(event[key])
    event.pop("breadcrumbs", None)  # log lines and queries: not worth the risk of a secret
    return event


def sentry_init(*, dsn: str, environment: str, release: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=0.0,
        before_send=event_scrub,
        # Errors are reported where they are handled (config.errors), not from log lines.
        integrations=[DjangoIntegration(), LoggingIntegration(level=None, event_level=None)],
    )

"""SENTRY_DSN: an unhandled error reaches a (local, real HTTP) Sentry endpoint, scrubbed."""

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.foundation.runner import run_python

FAILING_REQUEST = """
    import json, django
    django.setup()
    import sentry_sdk
    from django.test import Client
    import config.api

    def broken(request):
        raise RuntimeError("the index broke")

    config.api.service_info = broken  # the site root's view calls it
    import os  # the secrets come from the environment: the stack's source lines are sent
    response = Client(raise_request_exception=False).get(
        "/?token=" + os.environ["T1"] + "&page=2",
        HTTP_AUTHORIZATION="Bearer sk-live-" + os.environ["T2"],
        HTTP_COOKIE="theme=" + os.environ["T3"],
        HTTP_X_API_KEY=os.environ["T4"],
    )
    sentry_sdk.flush(timeout=5)
    print("RESULT" + json.dumps({"status": response.status_code,
                                 "request_id": response["X-Request-ID"]}))
"""


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_an_unhandled_error_arrives_scrubbed_with_release_environment_and_request_id():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)  # a free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Collector.received = []
    try:
        completed = run_python(
            FAILING_REQUEST,
            env={
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "SENTRY_DSN": f"http://publickey@127.0.0.1:{server.server_address[1]}/42",
                "SENTRY_ENVIRONMENT": "faults",
                "SENTRY_RELEASE": "parecer@test-1",
                "T1": "QUERYSECRET",
                "T2": "TOPSECRET",
                "T3": "COOKIESECRET",
                "T4": "KEYSECRET",
            },
        )
    finally:
        server.shutdown()
        server.server_close()
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT")]
    assert lines, completed.stdout + completed.stderr
    result = json.loads(lines[-1][len("RESULT") :])

    assert result["status"] == 500
    raw = b"".join(_Collector.received)
    events = [
        json.loads(line)
        for body in _Collector.received
        for line in body.splitlines()
        if line.startswith(b"{") and b'"exception"' in line
    ]
    assert events, raw[:2000]
    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["exception"]["values"][-1]["value"] == "the index broke"
    assert event["release"] == "parecer@test-1"
    assert event["environment"] == "faults"
    assert event["tags"]["request_id"] == result["request_id"]
    for secret in (b"QUERYSECRET", b"TOPSECRET", b"COOKIESECRET", b"KEYSECRET"):
        assert secret not in raw, raw.decode()[raw.decode().find(secret.decode()) - 300 :][:400]
    assert "data" not in event["request"]

"""A real OpenAI-compatible HTTP server on 127.0.0.1, for tests, `make run` and `make bench`.

Speaks ``GET /v1/models``, ``POST /v1/chat/completions`` and ``POST /v1/responses`` with usage
and an ``x-request-id`` header. Each request's behaviour (see ``Behaviour``) comes from, first to
last: the in-process queue (``FakeOpenAI.script``) or its HTTP twin ``POST /_fake/script`` (a JSON
object or list, for workers in other processes); a ``[[fake:status=429,retry_after=2]]`` marker in
the request's text; the server default. ``POST /_fake/default`` changes that default (an outage:
``{"status": 503}`` or ``{"drop": true}``; ``{}`` restores the start-up one), and ``GET /v1/models``
follows its ``status`` and ``drop`` too, so a health probe sees the outage. ``GET /_fake/requests``
lists what was received, ``POST /_fake/reset`` forgets scripts and requests and restores the
default.

    python -m tests.fakes.openai_server --port 8765 [--latency 0.2] [--api-key KEY]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.openai_replies import (
    Behaviour,
    chat_body,
    error_body,
    input_text,
    responses_body,
)

MODELS = ("fake-model", "fake-vision-model", "gpt-4o-mini")


class FakeOpenAI:
    """The server plus its script; thread-safe, so tests and handler threads can share it."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0, api_key: str = ""
    ) -> None:
        self.initial = Behaviour(latency=latency)
        self.default = replace(self.initial)
        self.required_key = api_key  # empty: any key is accepted, as local servers do
        self.quiet = True
        self._queue: deque[Behaviour] = deque()
        self._requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, **behaviour: Any) -> None:
        """Queue how the next request is answered (one call, one request)."""
        with self._lock:
            self._queue.append(Behaviour.from_mapping(behaviour))

    def set_default(self, **changes: Any) -> None:
        """Answer every unscripted request this way from now on: the start-up default with
        ``changes`` applied (``set_default()`` restores it)."""
        Behaviour.from_mapping(changes)  # refuses unknown names, as scripts do
        with self._lock:
            self.default = replace(self.initial, **changes)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self.default = replace(self.initial)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """What was received: ``{"method", "path", "headers", "body"}``, oldest first."""
        with self._lock:
            return list(self._requests)

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def behaviour_for(self, body: dict[str, Any]) -> Behaviour:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            default = replace(self.default)
        marked = Behaviour.from_marker(input_text(body))
        return marked if marked is not None else default

    def outage(self) -> Behaviour | None:
        """The default when it is an outage (an error status or dropped connections), else None."""
        with self._lock:
            default = replace(self.default)
        return default if default.drop or default.status != 200 else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall
    server_version = "FakeOpenAI/1.0"

    @property
    def fake(self) -> FakeOpenAI:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        if not self.fake.quiet:
            sys.stderr.write(f"openai stand-in: {format % args}\n")

    def _send_json(
        self,
        status: int,
        payload: Any,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        drip: float = 0.0,
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            if not drip:
                self.wfile.write(data)
                return
            self.wfile.flush()
            step = max(1, len(data) // 10)
            for start in range(0, len(data), step):
                time.sleep(drip)
                self.wfile.write(data[start : start + step])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout under test)

    def _send_page(self, status: int, page: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null") if length else None

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            self.fake.record(
                {"method": "GET", "path": self.path, "headers": self._headers(), "body": None}
            )
            if not self._authorised():
                return
            if (outage := self.fake.outage()) is not None:
                self._fail(outage, model="")
                return
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "parecer-fake"}
                for m in MODELS
            ]
            self._send_json(200, {"object": "list", "data": data})
        elif self.path == "/_fake/requests":
            self._send_json(200, self.fake.requests)
        else:
            self._send_json(
                404,
                {
                    "error": {
                        "message": "Not found.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            )

    def do_POST(self) -> None:
        try:
            body = self._body()
        except ValueError:
            self._send_json(
                400,
                {
                    "error": {
                        "message": "We could not parse the JSON body of your request.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
            return
        if self.path == "/_fake/script":
            items = body if isinstance(body, list) else [body]
            try:
                for item in items:
                    self.fake.script(**item)
            except (TypeError, ValueError) as error:
                self._send_json(
                    400, {"error": {"message": str(error), "type": "fake", "code": None}}
                )
                return
            self._send_json(200, {"queued": len(body) if isinstance(body, list) else 1})
        elif self.path == "/_fake/default":
            try:
                self.fake.set_default(**(body or {}))
            except (TypeError, ValueError) as error:
                self._send_json(
                    400, {"error": {"message": str(error), "type": "fake", "code": None}}
                )
                return
            self._send_json(200, {"default": body or {}})
        elif self.path == "/_fake/reset":
            self.fake.reset()
            self._send_json(200, {"reset": True})
        elif self.path in ("/v1/chat/completions", "/v1/responses"):
            self.fake.record(
                {"method": "POST", "path": self.path, "headers": self._headers(), "body": body}
            )
            if self._authorised():
                self._answer(body if isinstance(body, dict) else {})
        else:
            self._send_json(
                404,
                {
                    "error": {
                        "message": f"Unknown path {self.path}.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            )

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _fail(self, behaviour: Behaviour, *, model: str) -> None:
        """A dropped connection, or an error status with OpenAI's error body."""
        if behaviour.drop:
            self.close_connection = True  # no status line, no headers: a dropped connection
            return
        headers = {}
        if isinstance(behaviour.retry_after, str):
            headers["Retry-After"] = behaviour.retry_after
        elif behaviour.retry_after is not None:
            headers["Retry-After"] = f"{behaviour.retry_after:g}"
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        payload = error_body(behaviour, model=model, key=key)
        self._send_json(behaviour.status, payload, headers=headers, drip=behaviour.drip)

    def _authorised(self) -> bool:
        required = self.fake.required_key
        sent = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if not required or sent == required:
            return True
        self._send_json(401, error_body(Behaviour(status=401), model="", key=sent))
        return False

    def _answer(self, body: dict[str, Any]) -> None:
        try:
            behaviour = self.fake.behaviour_for(body)
        except (TypeError, ValueError) as error:  # a mistyped [[fake:...]] marker
            self._send_json(
                400,
                {
                    "error": {
                        "message": f"fake marker: {error}",
                        "type": "fake",
                        "code": "fake_marker_invalid",
                    }
                },
            )
            return
        if behaviour.latency:
            time.sleep(behaviour.latency)
        if behaviour.drop or behaviour.status != 200:
            self._fail(behaviour, model=body.get("model", ""))
            return
        if behaviour.malformed == "html":
            self._send_page(200, b"<html><body>Gateway says hello</body></html>")
            return
        if behaviour.malformed:
            self._send_json(
                200, None, raw=b'{"id": "chatcmpl-broken", "choices": [{"mess', drip=behaviour.drip
            )
            return
        build = chat_body if self.path.endswith("/chat/completions") else responses_body
        self._send_json(200, build(body, behaviour), drip=behaviour.drip)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local OpenAI-compatible stand-in server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument("--api-key", default="", help="refuse other keys with 401 (default: any)")
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    args = parser.parse_args(argv)
    fake = FakeOpenAI(host=args.host, port=args.port, latency=args.latency, api_key=args.api_key)
    fake.quiet = args.quiet
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(
        f"openai stand-in: listening on {fake.base_url} (made-up replies, not a model)", flush=True
    )
    try:
        fake.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.httpd.server_close()


if __name__ == "__main__":
    main()

"""Calls every app's tests make over and over, through the real HTTP stack (Django's Client)."""

from typing import Any

API = "/api/v1"


def _send(client, method: str, path: str, body: Any, headers: dict) -> Any:
    call = getattr(client, method)
    if body is None:
        return call(f"{API}{path}", **headers)
    return call(f"{API}{path}", body, content_type="application/json", **headers)


def get(client, path: str, **headers):
    return _send(client, "get", path, None, headers)


def post_json(client, path: str, body: Any = None, **headers):
    return _send(client, "post", path, {} if body is None else body, headers)


def put_json(client, path: str, body: Any, **headers):
    return _send(client, "put", path, body, headers)


def patch_json(client, path: str, body: Any, **headers):
    return _send(client, "patch", path, body, headers)


def delete(client, path: str, **headers):
    return _send(client, "delete", path, None, headers)


def error_code(response) -> str:
    return response.json()["error"]["code"]


def assert_error(response, status: int, code: str) -> dict:
    """The response is the error envelope with this status and code; returns ``error``."""
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["request_id"] == response["X-Request-ID"]
    return error

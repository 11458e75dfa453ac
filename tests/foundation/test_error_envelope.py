"""Every failure under /api/ is the one envelope, through Django's full middleware stack."""

import re

import pytest

pytestmark = pytest.mark.django_db


def assert_envelope(response, *, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response["X-Request-ID"]
    return error


def test_unknown_path_under_api_is_404_envelope(client):
    assert_envelope(client.get("/api/v1/no/such/thing"), status=404, code="not_found")


def test_wrong_method_is_405_with_allow_header(client):
    response = client.delete("/api/v1/")

    assert_envelope(response, status=405, code="method_not_allowed")
    assert "GET" in response["Allow"]


def test_unsupported_media_type_is_415(client):
    response = client.post("/api/v1/auth/login", data="email=a", content_type="text/plain")

    error = assert_envelope(response, status=415, code="unsupported_media_type")
    assert "text/plain" in error["message"]


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")

    assert_envelope(response, status=400, code="malformed_json")


def test_validation_error_is_422_listing_each_field(client):
    response = client.post("/api/v1/auth/login", {"email": ""}, content_type="application/json")

    error = assert_envelope(response, status=422, code="validation_error")
    fields = {item["field"]: item for item in error["details"]}
    assert set(fields) == {"email", "password"}
    assert fields["password"]["in"] == "body"
    assert fields["password"]["type"] == "missing"


def test_body_too_large_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"email": "a@b.c", "password": "' + "x" * 2000 + '"}'

    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")

    assert_envelope(response, status=413, code="payload_too_large")


def test_throttled_is_429_with_retry_after(client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "password_reset": "2/min"}
    for _ in range(2):
        ok = client.post(
            "/api/v1/auth/password/reset", {"email": "x@y.z"}, content_type="application/json"
        )
        assert ok.status_code == 202

    response = client.post(
        "/api/v1/auth/password/reset", {"email": "x@y.z"}, content_type="application/json"
    )

    assert_envelope(response, status=429, code="throttled")
    assert int(response["Retry-After"]) >= 1


def test_unhandled_exception_is_500_without_traceback(client, monkeypatch):
    def explode(request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("config.api.service_info", explode)

    response = client.get("/api/v1/")

    error = assert_envelope(response, status=500, code="internal_error")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["details"] is None


def test_unauthenticated_is_401_envelope(client):
    assert_envelope(client.get("/api/v1/auth/me"), status=401, code="not_authenticated")


def test_request_id_is_echoed_when_well_formed(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="abc123-def456")

    assert response["X-Request-ID"] == "abc123-def456"


@pytest.mark.parametrize("bad", ["bad id with spaces", "x" * 300, "<script>"])
def test_malformed_request_id_is_replaced(client, bad):
    response = client.get("/api/v1/nope", HTTP_X_REQUEST_ID=bad)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]


def test_cors_headers_are_on_errors_too(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]

    response = client.get("/api/v1/nope", HTTP_ORIGIN="https://app.example.com")

    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert response["Access-Control-Allow-Credentials"] == "true"

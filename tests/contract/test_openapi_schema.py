"""The served schema is the contract: strict JSON, a valid OpenAPI document, clean names, every
outcome declared, nothing stray, and committed (docs/openapi.json) so every change shows in review."""

import json
import re

import pytest
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from tests.contract.strict_schema import (
    SNAPSHOT,
    UPDATE_HINT,
    DuplicateKeyError,
    snapshot_text,
    strict_schema_load,
)

OPERATION_ID = r"^[a-z][a-z0-9_]*$"


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return strict_schema_load(response.content)


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_strict_parser_refuses_duplicate_keys_and_invalid_documents():
    # The bug this guards against: 401 declared by a route (int) and by the API (str).
    duplicated = (
        b'{"openapi": "3.1.0", "paths": {"/a": {"get": {"responses": {"401": {}, "401": {}}}}}}'
    )
    with pytest.raises(DuplicateKeyError, match="'401'"):
        strict_schema_load(duplicated)
    with pytest.raises(OpenAPIValidationError):
        strict_schema_load(b'{"openapi": "3.1.0", "info": {"title": "x"}, "paths": {}}')


def test_the_served_schema_has_no_duplicate_keys_and_is_valid_openapi(schema):
    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["title"] == "Parecer API"
    assert "/api/v1/auth/login" in schema["paths"]


def test_the_served_schema_is_the_committed_snapshot(schema):
    assert SNAPSHOT.read_text() == snapshot_text(schema), UPDATE_HINT


def test_operation_ids_are_unique_clean_names(schema):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]

    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for operation_id in ids:
        assert re.fullmatch(OPERATION_ID, operation_id), operation_id
    assert {"auth_login", "auth_me", "users_list", "users_get", "audit_events_list"} <= set(ids)
    leaked = [i for i in ids if i.startswith(("accounts_api_", "audits_api_", "config_api_"))]
    assert not leaked, "module paths leaked into operationIds"


def test_every_outcome_of_every_operation_is_declared_with_the_envelope(schema):
    envelope = {"$ref": "#/components/schemas/ErrorOut"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"400", "413", "415", "422", "429", "500", "503"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            expected |= {"404"}
        assert expected <= set(responses), (path, method, sorted(expected - set(responses)))
        for status in expected:
            assert responses[status]["content"]["application/json"]["schema"] == envelope


def test_the_export_declares_its_media_types(schema):
    ok = schema["paths"]["/api/v1/audits/export"]["get"]["responses"]["200"]

    assert set(ok["content"]) == {"application/x-ndjson", "text/csv"}


def test_no_component_schema_is_stray(schema):
    text = json.dumps({key: value for key, value in schema.items() if key != "components"})
    text += json.dumps(schema["components"].get("requestBodies", {}))
    components = schema["components"]["schemas"]
    referenced: set[str] = set()
    while True:  # follow references from the operations into the components, to a fixed point
        found = {name for name in components if f'"#/components/schemas/{name}"' in text}
        if found == referenced:
            break
        text += "".join(json.dumps(components[name]) for name in found - referenced)
        referenced = found

    assert set(components) - referenced == set()
    assert not {"Input", "UserFilters", "AuditFilters", "ExportFilters"} & set(components)


def test_request_fields_with_defaults_stay_optional_for_generators(schema):
    # openapi-typescript makes a property with a default required unless it sits under a
    # request body: so bodies live in components/requestBodies, not components/schemas.
    login = schema["paths"]["/api/v1/auth/login"]["post"]["requestBody"]
    assert login == {"$ref": "#/components/requestBodies/LoginIn"}
    body = schema["components"]["requestBodies"]["LoginIn"]["content"]["application/json"]
    assert body["schema"]["properties"]["mode"]["default"] == "token"
    assert "mode" not in body["schema"]["required"]
    assert "LoginIn" not in schema["components"]["schemas"]


def test_rules_beyond_the_schema_are_on_real_operations_and_in_their_descriptions(schema):
    from config.openapi import RULES_BEYOND_THE_SCHEMA

    by_id = {operation["operationId"]: operation for _, _, operation in operations(schema)}
    assert set(RULES_BEYOND_THE_SCHEMA) <= set(by_id), "a rule names an operationId that is gone"
    for operation_id, rules in RULES_BEYOND_THE_SCHEMA.items():
        operation = by_id[operation_id]
        assert operation["x-rules-beyond-schema"] == rules
        for rule in rules:
            assert rule in operation["description"]
    assert "since" in by_id["audit_events_list"]["description"]

"""Every endpoint says who may call it, and its declared responses show what that can cost.

Walking the mounted routers means a new app's endpoints are checked the day they are mounted.
"""

import re

import pytest

from config.api import api
from core.permissions import permission_declaration

SERVICE_ROUTES = {"api_root"}  # the service-info document: public by construction


def _operations():
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                full_path = "/" + (prefix.strip("/") + "/" + path.lstrip("/")).strip("/")
                for method in operation.methods:
                    yield method, full_path, operation


OPERATIONS = [
    pytest.param(method, path, operation, id=f"{method} {path}")
    for method, path, operation in _operations()
    if operation.view_func.__name__ not in SERVICE_ROUTES
]


def _schema_operation(method: str, path: str) -> dict:
    schema = api.get_openapi_schema()
    openapi_path = "/api/v1" + re.sub(r"\{(?:\w+:)?(\w+)\}", r"{\1}", path)
    return schema["paths"][openapi_path.rstrip("/") or "/"][method.lower()]


def test_the_walk_sees_every_mounted_app():
    paths = {path for _, path, _ in _operations()}
    assert {"/auth/login", "/users", "/audits"} <= {p.rstrip("/") for p in paths}


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_every_endpoint_declares_who_may_call_it(method, path, operation):
    declaration = permission_declaration(operation.view_func)
    secured = bool(_schema_operation(method, path).get("security"))
    assert declaration is not None, (
        f"{method} {path} has no permission declaration: add @requires(Role...), "
        "@person_only, @any_user or @public (core.permissions)"
    )
    if declaration == "public":
        assert not secured, f"{method} {path} is @public but requires authentication"
    else:
        assert secured, f"{method} {path} declares {declaration} but has auth=None"


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_declared_responses_include_what_the_declaration_can_return(method, path, operation):
    declaration = permission_declaration(operation.view_func)
    responses = {str(status) for status in _schema_operation(method, path)["responses"]}
    expected = set()
    if declaration != "public":
        expected.add("401")
    if declaration and (declaration.startswith("role:") or declaration == "person"):
        expected.add("403")
    if declaration != "public" and method != "GET":
        expected.add("403")  # a read-only API key is refused on unsafe methods
    if "{" in path:
        expected.add("404")
    assert expected <= responses, f"{method} {path} must declare {sorted(expected - responses)}"

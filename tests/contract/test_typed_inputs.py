"""Typed inputs refuse what they should: a timestamp is an ISO 8601 string, a body's boolean is
a JSON boolean, a body's number a JSON number. Pydantic would otherwise read 1700000000 as a Unix
time, 0 as false and true or "1" as 1."""

import types
import typing

import pytest
from pydantic import TypeAdapter, ValidationError

from accounts.models import User
from analyses.models import Analysis
from audits.models import AuditEvent
from core.schemas import StrictIn
from prompts.models import Prompt, PromptLabel
from tests.support.http import post_json, put_json
from tests.support.prompts_factories import (
    FIVE_VARIABLES,
    prompt_make,
    version_add,
    version_content,
)

pytestmark = pytest.mark.django_db


def assert_422_on(response, field: str) -> None:
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [detail["field"] for detail in error["details"]], error["details"]


@pytest.mark.parametrize("occurred_at", [1700000000, 1700000000.5, "1700000000", True])
def test_a_number_for_occurred_at_is_refused_and_nothing_is_recorded(
    client, user, bearer, occurred_at
):
    before = AuditEvent.objects.count()
    body = {"action": "invoice.paid", "entity_type": "invoice", "occurred_at": occurred_at}

    response = client.post("/api/v1/audits", body, content_type="application/json", **bearer(user))

    assert_422_on(response, "occurred_at")
    assert "ISO 8601" in str(response.json()["error"]["details"])
    assert AuditEvent.objects.count() == before


def test_an_iso_timestamp_for_occurred_at_is_recorded_in_utc(client, user, bearer):
    body = {
        "action": "invoice.paid",
        "entity_type": "invoice",
        "occurred_at": "2026-01-31T13:00:00+01:00",
    }

    response = client.post("/api/v1/audits", body, content_type="application/json", **bearer(user))

    assert response.status_code == 201, response.content
    assert response.json()["occurred_at"] == "2026-01-31T12:00:00Z"
    event = AuditEvent.objects.get(pk=response.json()["id"])
    assert event.occurred_at.isoformat() == "2026-01-31T12:00:00+00:00"


@pytest.mark.parametrize("name", ["since", "until"])
def test_a_number_for_a_time_filter_is_refused(client, user, bearer, name):
    response = client.get(f"/api/v1/audits?{name}=1700000000", **bearer(user))

    assert_422_on(response, name)


@pytest.mark.parametrize("value", [0, 1, "true", "no"])
def test_a_non_boolean_is_active_is_refused_and_the_user_is_unchanged(
    client, admin, user, bearer, value
):
    response = client.patch(
        f"/api/v1/users/{user.pk}",
        {"is_active": value},
        content_type="application/json",
        **bearer(admin),
    )

    assert_422_on(response, "is_active")
    assert User.objects.get(pk=user.pk).is_active is True


def test_a_json_boolean_is_active_still_works(client, admin, user, bearer):
    response = client.patch(
        f"/api/v1/users/{user.pk}",
        {"is_active": False},
        content_type="application/json",
        **bearer(admin),
    )

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert User.objects.get(pk=user.pk).is_active is False


def test_a_number_for_everywhere_is_refused_on_logout(client, user, bearer):
    response = client.post(
        "/api/v1/auth/logout", {"everywhere": 1}, content_type="application/json", **bearer(user)
    )

    assert_422_on(response, "everywhere")


def test_query_string_booleans_still_filter(client, admin, user, staff, bearer):
    User.objects.filter(pk=staff.pk).update(is_active=False)

    inactive = client.get("/api/v1/users?is_active=false", **bearer(admin)).json()
    active = client.get("/api/v1/users?is_active=true", **bearer(admin)).json()

    assert [item["email"] for item in inactive["items"]] == [staff.email]
    assert staff.email not in [item["email"] for item in active["items"]]
    assert {user.email, admin.email} <= {item["email"] for item in active["items"]}


NOT_A_NUMBER = [True, False, "1", "2"]


@pytest.mark.parametrize("version", [*NOT_A_NUMBER, 1.5])
def test_a_non_integer_version_to_render_is_refused(client, user, bearer, version):
    """The contract fuzz's find: ``{"version": true}`` rendered version 1 with a 200."""
    prompt_make()

    response = post_json(
        client,
        "/prompts/contract-review/render",
        {"version": version, "variables": FIVE_VARIABLES},
        **bearer(user),
    )

    assert_422_on(response, "version")


def test_an_integer_version_to_render_still_renders_it(client, user, bearer):
    version_add(prompt_make(), note="second")

    response = post_json(
        client,
        "/prompts/contract-review/render",
        {"version": 2, "variables": FIVE_VARIABLES},
        **bearer(user),
    )

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2


@pytest.mark.parametrize("body", [{"version": True}, {"version": "1"}, {"cache": 1}])
def test_a_mistyped_analysis_is_refused_and_nothing_is_queued(client, user, bearer, body):
    prompt_make()
    payload = {"prompt": "contract-review", "variables": FIVE_VARIABLES, **body}

    response = post_json(client, "/analyses", payload, **bearer(user))

    assert_422_on(response, next(iter(body)))
    assert not Analysis.objects.exists()


@pytest.mark.parametrize("version", [True, "2"])
def test_a_label_is_not_moved_by_a_non_integer_version(client, staff, bearer, version):
    prompt = prompt_make(labels=("staging",))
    version_add(prompt)

    response = put_json(
        client, "/prompts/contract-review/labels/staging", {"version": version}, **bearer(staff)
    )

    assert_422_on(response, "version")
    assert PromptLabel.objects.get(prompt=prompt, name="staging").version.number == 1


@pytest.mark.parametrize(
    "parameters",
    [{"temperature": True}, {"top_p": "0.5"}, {"max_output_tokens": "800"}, {"seed": False}],
)
def test_mistyped_model_parameters_are_refused_and_no_prompt_is_made(
    client, staff, bearer, parameters
):
    body = {"slug": "typed", "name": "Typed", "version": version_content(parameters=parameters)}

    response = post_json(client, "/prompts", body, **bearer(staff))

    assert response.status_code == 422, response.content
    assert not Prompt.objects.filter(slug="typed").exists()


def _request_bodies(cls=StrictIn):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _request_bodies(subclass)


def _scalar_fields():
    """(body, field, the field's validator, its scalar type) for each bool, int or float field."""
    for body in _request_bodies():
        for name, field in body.model_fields.items():
            annotation = field.annotation
            if (
                isinstance(annotation, types.UnionType)
                or typing.get_origin(annotation) is typing.Union
            ):
                annotation = next(
                    arg for arg in typing.get_args(annotation) if arg is not type(None)
                )
            scalar = (
                typing.get_args(annotation)[0]
                if typing.get_origin(annotation) is typing.Annotated
                else annotation
            )
            if scalar in (bool, int, float):
                yield (
                    body.__name__,
                    name,
                    TypeAdapter(
                        typing.Annotated[annotation, *field.metadata]
                        if field.metadata
                        else annotation
                    ),
                    scalar,
                )


WRONG_JSON_TYPE = {bool: [0, 1, "true"], int: [True, "1"], float: [True, "0.5"]}


def test_every_scalar_in_every_request_body_takes_only_its_json_type():
    """A guard for bodies yet to come: a bool, int or float field declared without the JSON types
    (JsonBool, JsonInt, JsonNumber) would read another type and fail here."""
    checked = []
    for body, name, adapter, scalar in _scalar_fields():
        for value in WRONG_JSON_TYPE[scalar]:
            with pytest.raises(ValidationError):
                adapter.validate_python(value)
        checked.append(f"{body}.{name}")

    assert {
        "RenderIn.version",
        "AnalysisIn.cache",
        "ParametersIn.seed",
        "LogoutIn.everywhere",
    } <= set(checked)

"""Every prompts, configurations and preferences endpoint x every kind of caller."""

import pytest

from tests.support.actors import matrix_call, matrix_cases
from tests.support.prompts_factories import (
    FIVE_VARIABLES,
    prompt_make,
    version_add,
    version_content,
)

pytestmark = pytest.mark.django_db

U, S, A, R, W = "user", "staff", "admin", "read_key", "write_key"
P = "/prompts/contract-review"


def everyone(status: int) -> dict:
    return {"anonymous": 401, U: status, S: status, A: status, R: status, W: status}


def staff_writes(status: int) -> dict:
    return {"anonymous": 401, U: 403, S: status, A: status, R: 403, W: 403}


def staff_reads(status: int) -> dict:
    return {"anonymous": 401, U: 403, S: status, A: status, R: 403, W: 403}


def admin_only(status: int) -> dict:
    return {"anonymous": 401, U: 403, S: 403, A: status, R: 403, W: 403}


MATRIX = [
    ("get", "/prompts", None, everyone(200)),
    (
        "post",
        "/prompts",
        {"slug": "fresh", "name": "Fresh", "version": version_content()},
        staff_writes(201),
    ),
    ("post", "/prompts/import", {"format": "parecer.prompts/1", "prompts": []}, admin_only(200)),
    ("get", P, None, everyone(200)),
    ("get", P + "?label=staging", None, everyone(200)),
    ("patch", P, {"name": "Renamed"}, staff_writes(200)),
    ("delete", P, None, staff_writes(200)),
    ("post", P + "/restore", {}, staff_writes(200)),
    ("get", P + "/versions", None, everyone(200)),
    ("post", P + "/versions", version_content(note="v3"), staff_writes(201)),
    ("get", P + "/versions/1", None, everyone(200)),
    ("get", P + "/versions/1/diff/2", None, everyone(200)),
    ("put", P + "/labels/staging", {"version": 1}, staff_writes(200)),
    ("put", P + "/labels/production", {"version": 2}, admin_only(200)),
    ("delete", P + "/labels/staging", None, staff_writes(204)),
    ("delete", P + "/labels/production", None, admin_only(204)),
    ("get", P + "/labels/production/history", None, staff_reads(200)),
    ("post", P + "/render", {"variables": FIVE_VARIABLES}, {**everyone(200), R: 403}),
    ("get", P + "/export", None, staff_reads(200)),
    ("get", "/configurations", None, staff_reads(200)),
    ("get", "/configurations/default_model", None, staff_reads(200)),
    ("put", "/configurations/analysis_attempt_budget", {"value": 4}, admin_only(200)),
    ("delete", "/configurations/analysis_attempt_budget", None, admin_only(200)),
    ("get", "/auth/me/preferences", None, everyone(200)),
    ("put", "/auth/me/preferences", {"theme": "dark"}, {**everyone(200), R: 403, W: 403}),
]


@pytest.mark.parametrize(("method", "path", "body", "actor", "expected"), matrix_cases(MATRIX))
def test_endpoint_by_actor(client, method, path, body, actor, expected):
    prompt = prompt_make(labels=("production", "staging"))
    version_add(prompt)
    matrix_call(client, method=method, path=path, body=body, actor=actor, expected=expected)

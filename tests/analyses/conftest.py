"""Fixtures of the analyses tests: a prompt, a signed-in caller, and ``submit``."""

import pytest

from tests.support.analyses_factories import prompt_create
from tests.support.http import post_json


@pytest.fixture
def version(db):
    return prompt_create()


@pytest.fixture
def caller(user, bearer):
    """The user and the headers that authenticate as them."""
    return user, bearer(user)


@pytest.fixture
def submit(client, caller, version):
    """``submit(**body_overrides, headers=..., query="")`` -> the POST /analyses response."""

    def send(*, headers: dict | None = None, query: str = "", **body):
        payload = {"prompt": "summary", "variables": {"text": "Parecer turns prompts into work."}}
        payload.update(body)
        return post_json(client, f"/analyses{query}", payload, **(headers or caller[1]))

    return send

"""Templates can't reach Python internals, loop forever or build gigabytes: refused or capped."""

import re
import time

import pytest

from prompts.services.versions import prompt_version_create
from prompts.template_limits import MAX_LOOP_ITERATIONS, MAX_OUTPUT_CHARS
from tests.support.http import assert_error, post_json
from tests.support.prompts_factories import prompt_make

pytestmark = pytest.mark.django_db

OPEN_SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}, "text": {"type": "string"}},
}


def _render_template(client, headers, source: str, variables: dict | None = None):
    prompt = prompt_make(slug="sandbox", labels=())
    version = prompt_version_create(
        prompt=prompt,
        author=None,
        messages=[{"role": "user", "content": source}],
        variables_schema=OPEN_SCHEMA,
    )
    started = time.monotonic()
    response = post_json(
        client,
        "/prompts/sandbox/render",
        {"version": version.number, "variables": variables or {}},
        **headers,
    )
    return response, time.monotonic() - started


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__'"),
        ("{{ cycler.__init__.__globals__ }}", "access to attribute '__init__'"),
        ("{{ joiner.__init__.__globals__['os'] }}", "access to attribute '__init__'"),
        ("{{ (1).__class__.__subclasses__() }}", "access to attribute '__class__'"),
    ],
)
def test_attribute_access_into_python_internals_is_refused(client, user, bearer, source, reason):
    response, _ = _render_template(client, bearer(user), source)

    error = assert_error(response, 422, "template_error")
    assert reason in error["details"][0]["reason"]
    assert error["details"][0]["type"] == "security"
    assert error["details"][0]["field"] == "messages[0].content"


@pytest.mark.parametrize(
    ("source", "variables", "reason"),
    [
        ("{% for i in range(10**9) %}x{% endfor %}", {}, "Range too big"),
        ("{% for i in range(n) %}{% endfor %}", {"n": 10**9}, "Range too big"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            {},
            f"more than {MAX_LOOP_ITERATIONS} loop iterations|rendering took longer",
        ),
        (
            "{% macro m(n) %}{% if n %}{{ m(n-1) }}{{ m(n-1) }}{% endif %}{% endmacro %}{{ m(40) }}",
            {},
            "more than 100000 calls|rendering took longer",
        ),
        ("{{ 'a' * 10**9 }}", {}, "would be longer than"),
        ("{{ ((2**1000)**1000)**1000 }}", {}, "an integer above"),
        (
            "{% set ns = namespace(x=2**999 * 2**999 * 2**999) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
            {},
            "an integer above",
        ),
        ("{{ text * n }}", {"text": "a", "n": 10**9}, "would be longer than"),
        ("{{ 'x'|center(10**9) }}", {}, "width above"),
        ("{{ ['x']|batch(10**9, 'y')|list }}", {}, "width above"),
        ("{{ {'a': [1]}|tojson(indent=10**9) }}", {}, "width above"),
        ("{{ 'x'.ljust(10**9) }}", {}, "width above"),
        ("{{ '{:>1000000000}'.format(1) }}", {}, "format width"),
        ("{{ '%1000000000s' % 'x' }}", {}, "format width"),
        ("{% set s = 'a' * 1000000 %}{{ s ~ s }}", {}, "would be longer than"),
        ("{% set s = 'a' * 1000000 %}{{ s + s }}", {}, "would be longer than"),
        ("{% set s = 'a' * 1000 %}{{ s|replace('a', s) }}", {}, "would be longer than"),
        ("{% set s = 'a' * 1000 %}{{ s.join([s] * 1000) }}", {}, "would be longer than"),
        (
            "{% for i in range(10000) %}{{ 'a' * 1000 }}{% endfor %}",
            {},
            f"output longer than {MAX_OUTPUT_CHARS}|rendering took longer",
        ),
    ],
)
def test_loops_and_huge_strings_are_capped(client, user, bearer, source, variables, reason):
    response, seconds = _render_template(client, bearer(user), source, variables)

    error = assert_error(response, 422, "template_error")
    # A busy machine may hit the 2 s cap before the count cap: either way it stops early.
    assert re.search(reason, error["details"][0]["reason"]), error
    assert seconds < 10  # capped, not run to completion


def test_normal_templates_still_render(client, user, bearer):
    source = "{% for i in range(3) %}{{ loop.index }}{{ text|upper }}{% endfor %} {{ '%05d'|format(n) }} {{ 'x'|center(5) }}|"

    response, _ = _render_template(client, bearer(user), source, {"text": "ab", "n": 42})

    assert response.status_code == 200, response.content
    assert response.json()["messages"][0]["content"] == "1AB2AB3AB 00042   x  |"

"""Concurrent writers on the real PostgreSQL: version numbers are never reused, and two moves of
one label leave it consistent with a history (and an audit trail) that chains from -> to."""

import threading

import pytest
from django.db import connection
from django.test import Client

from prompts.models import PromptLabel, PromptLabelMove, PromptVersion
from tests.support.prompts_factories import prompt_make, version_add, version_content

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_version_creation_never_reuses_a_number(staff, bearer, audit_events):
    prompt_make()
    headers = bearer(staff)

    def create(i):
        return lambda: Client().post(
            "/api/v1/prompts/contract-review/versions",
            version_content(note=f"writer {i}"),
            content_type="application/json",
            **headers,
        )

    responses = _in_threads([create(i) for i in range(8)])

    assert [r.status_code for r in responses] == [201] * 8, [r.content for r in responses]
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == list(range(2, 10))
    assert sorted(PromptVersion.objects.values_list("number", flat=True)) == list(range(1, 10))
    assert (
        sorted(e.details["version"] for e in audit_events(action="prompt.version_created"))
        == numbers
    )


def test_two_concurrent_moves_of_one_label_stay_consistent_and_are_both_audited(
    admin, bearer, audit_events
):
    prompt = prompt_make(labels=("production",))
    version_add(prompt, note="two")
    version_add(prompt, note="three")
    headers = bearer(admin)

    def move(to):
        return lambda: Client().put(
            "/api/v1/prompts/contract-review/labels/production",
            {"version": to, "note": f"to {to}"},
            content_type="application/json",
            **headers,
        )

    responses = _in_threads([move(2), move(3)])

    assert [r.status_code for r in responses] == [200, 200], [r.content for r in responses]
    moves = list(PromptLabelMove.objects.filter(label="production").order_by("id"))
    chain = [(m.from_version, m.to_version) for m in moves]
    # Serialised by the prompt row lock: the second move starts where the first ended.
    assert chain in ([(None, 1), (1, 2), (2, 3)], [(None, 1), (1, 3), (3, 2)])
    final = PromptLabel.objects.get(prompt=prompt, name="production").version.number
    assert final == chain[-1][1]
    events = [
        (e.details["from_version"], e.details["to_version"])
        for e in audit_events(action="prompt.label_moved")
    ]
    assert events == chain[1:]
    assert (
        Client().get("/api/v1/prompts/contract-review", **headers).json()["version"]["number"]
        == final
    )

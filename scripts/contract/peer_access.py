"""Object-level authorization against the running server: a peer never reaches another's objects.

Bob and Carol (plain users) each create an API key and record an audit event. Then each, as the
peer, tries every id-bearing operation on the other's objects: a GET must be 404 (never the
object), and every answer must be the one a random, non-existent id gets (same status, same
code), so the API is no oracle for which ids exist. Lists never show the other's objects, and
the owner's objects are unchanged afterwards.
Run: FUZZ_BASE=http://127.0.0.1:8140 FUZZ_BOB_TOKEN=... FUZZ_CAROL_TOKEN=... python scripts/contract/peer_access.py
"""

import json
import os
import sys
import urllib.error
import urllib.request
import uuid

BASE = os.environ["FUZZ_BASE"].rstrip("/") + "/api/v1"
failures: list[str] = []
passed = 0


def call(method: str, path: str, *, token: str = "", key: str = "", body=None):
    """(status, parsed body or None) of one request."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["X-API-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our server
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    return status, (json.loads(raw) if raw else None)


def expect(condition: bool, what: str) -> None:
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)
        print(f"FAILED: {what}", file=sys.stderr)


def code_of(body) -> str | None:
    return (body or {}).get("error", {}).get("code")


def objects_of(token: str, who: str) -> dict:
    """An API key and an audit event of ``who``'s own."""
    body = {"name": f"{who} sync", "current_password": os.environ["FUZZ_PASSWORD"]}
    status, key = call("POST", "/auth/api-keys", token=token, body=body)
    assert status == 201, (status, key)
    event = {"action": "invoice.paid", "entity_type": "invoice", "details": {"owner": who}}
    status, recorded = call("POST", "/audits", token=token, body=event)
    assert status == 201, (status, recorded)
    return {"key_id": key["id"], "key": key["key"], "event_id": recorded["id"], "token": token}


def probe(owner_name: str, owner: dict, peer_name: str, peer: dict) -> None:
    unknown = str(uuid.uuid4())
    attempts = [
        ("GET", "/audits/{}", owner["event_id"], None),
        ("PATCH", "/audits/{}", owner["event_id"], {"status": "resolved"}),
        ("DELETE", "/audits/{}", owner["event_id"], None),
        ("DELETE", "/auth/api-keys/{}", owner["key_id"], None),
    ]
    for method, template, object_id, body in attempts:
        status, answer = call(method, template.format(object_id), token=peer["token"], body=body)
        control, control_answer = call(
            method, template.format(unknown), token=peer["token"], body=body
        )
        label = f"{peer_name} {method} {template.format(owner_name + "'s")}"
        expect(status in (403, 404), f"{label}: {status} (expected 403 or 404)")
        expect(
            (status, code_of(answer)) == (control, code_of(control_answer)),
            f"{label}: {status} {code_of(answer)} differs from an unknown id's {control} {code_of(control_answer)}",
        )
        if method == "GET":
            expect(status == 404, f"{label}: {status}, expected 404")
    _, events = call("GET", "/audits?page_size=50", token=peer["token"])
    expect(
        owner["event_id"] not in [event["id"] for event in events["items"]],
        f"{peer_name} lists {owner_name}'s audit event",
    )
    _, keys = call("GET", "/auth/api-keys?page_size=50", token=peer["token"])
    expect(
        owner["key_id"] not in [key["id"] for key in keys["items"]],
        f"{peer_name} lists {owner_name}'s API key",
    )
    # The owner's objects survived the peer's attempts.
    status, event = call("GET", f"/audits/{owner['event_id']}", token=owner["token"])
    expect(
        status == 200 and event["details"] == {"owner": owner_name} and event["status"] == "open",
        f"{owner_name}'s event changed: {status} {event}",
    )
    status, _ = call("GET", "/auth/me", key=owner["key"])
    expect(
        status == 200,
        f"{owner_name}'s API key stopped working after {peer_name}'s DELETE: {status}",
    )


bob = objects_of(os.environ["FUZZ_BOB_TOKEN"], "bob")
carol = objects_of(os.environ["FUZZ_CAROL_TOKEN"], "carol")
probe("bob", bob, "carol", carol)
probe("carol", carol, "bob", bob)
print(f"peer-access: {passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)

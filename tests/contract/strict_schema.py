"""The served schema read as strictly as Swagger UI and openapi-typescript read it.

Python's json keeps the last of two equal keys; YAML-based tools (Swagger UI's parser) and
openapi-typescript refuse the document. So a duplicate key is an error here, then the document
must pass openapi-spec-validator. Used by the test suite (through Django's test client) and by
scripts/contract-fuzz.sh (against the production server):

    python -m tests.contract.strict_schema URL [SNAPSHOT]
"""

import json
import sys
import urllib.request
from pathlib import Path

from openapi_spec_validator import validate

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
UPDATE_HINT = "the served schema differs from docs/openapi.json: run `make schema` to update it"


class DuplicateKeyError(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKeyError(f"duplicate key {key!r} in an object with keys {list(seen)}")
        seen[key] = value
    return seen


def strict_schema_load(raw: bytes) -> dict:
    """Parse the raw bytes, refusing duplicate keys, and validate them as OpenAPI."""
    schema = json.loads(raw, object_pairs_hook=_refuse_duplicates)
    validate(schema)
    return schema


def snapshot_text(schema: dict) -> str:
    """The committed form: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(url: str, snapshot: str | None = None) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        raw = response.read()
    schema = strict_schema_load(raw)
    operations = sum(len(methods) for methods in schema["paths"].values())
    print(
        f"{url}: no duplicate keys, a valid OpenAPI {schema['openapi']} ({operations} operations)"
    )
    if snapshot and Path(snapshot).read_text() != snapshot_text(schema):
        print(UPDATE_HINT, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

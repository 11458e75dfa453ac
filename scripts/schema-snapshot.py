"""make schema: write the schema /api/v1/openapi.json serves to docs/openapi.json (the snapshot).

Fetched through Django's test client, as the snapshot test does, and read with the same strict
parser, so a schema with duplicate keys or an invalid document is never committed.
Run: PYTHONPATH=. .venv/bin/python scripts/schema-snapshot.py
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.test import Client  # noqa: E402

from tests.contract.strict_schema import SNAPSHOT, snapshot_text, strict_schema_load  # noqa: E402

response = Client().get("/api/v1/openapi.json")
assert response.status_code == 200, response.status_code
SNAPSHOT.write_text(snapshot_text(strict_schema_load(response.content)))
print(f"wrote {SNAPSHOT.relative_to(SNAPSHOT.parents[1])}")

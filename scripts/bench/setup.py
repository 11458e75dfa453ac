"""Bench fixtures on the bench database: a staff user, a long-lived JWT, a read+write API key,
and (when asked) enough seeded audit events. Prints shell `export` lines."""

import os
import sys

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from accounts.services.api_keys import api_key_create  # noqa: E402
from accounts.tokens import access_token_issue  # noqa: E402
from audits.models import AuditEvent  # noqa: E402

PASSWORD = "bench-password-not-secret-1"

user = User.objects.filter(email="bench@example.com").first()
if user is None:
    user = User.objects.create_user(email="bench@example.com", password=PASSWORD, role=Role.STAFF)
token, _ = access_token_issue(user_id=user.pk)
_, key = api_key_create(user=user, name="bench", scope="read+write")

wanted = int(os.environ.get("BENCH_AUDIT_EVENTS", "0"))
have = AuditEvent.objects.count()
if wanted > have:
    print(f"seeding {wanted - have} audit events (once) ...", file=sys.stderr)
    call_command("seed_audits", str(wanted - have), stdout=sys.stderr)

print(f"export BENCH_JWT='{token}'")
print(f"export BENCH_API_KEY='{key}'")
print(f"export BENCH_EMAIL='bench@example.com' BENCH_PASSWORD='{PASSWORD}'")
print(f"export BENCH_AUDIT_ROWS='{AuditEvent.objects.count()}'")

"""Bench fixtures on the bench database; prints shell `export` lines for scripts/bench.sh.

A staff user bench@example.com with a known password, an access JWT (lifetime ACCESS_TOKEN_TTL,
signed with the same JWT_SIGNING_KEY the server gets), a read+write API key (reused across runs
while it still works: .bench/api_key), and the audit table seeded up to BENCH_AUDIT_EVENTS rows.
Run with the production environment: PYTHONPATH=. python scripts/bench/setup.py
"""

import os
import sys
from pathlib import Path

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import ApiKey, ApiKeyScope, Role, User  # noqa: E402
from accounts.services.api_keys import api_key_create  # noqa: E402
from accounts.tokens import access_token_issue, sha256_hex  # noqa: E402
from audits.models import AuditEvent  # noqa: E402

EMAIL = "bench@example.com"
PASSWORD = "bench-password-not-secret-1"
KEY_FILE = Path(os.environ.get("BENCH_STATE_DIR", ".bench")) / "api_key"


def bench_user() -> User:
    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        return User.objects.create_user(
            email=EMAIL, password=PASSWORD, role=Role.STAFF, email_verified_at=timezone.now()
        )
    changed = []
    if not user.check_password(
        PASSWORD
    ):  # a correct password: the login scenario must not lock out
        user.set_password(PASSWORD)
        changed.append("password")
    if user.email_verified_at is None:  # API keys need a verified address
        user.email_verified_at = timezone.now()
        changed.append("email_verified_at")
    if user.role != Role.STAFF or not user.is_active:
        user.role, user.is_active = Role.STAFF, True
        changed += ["role", "is_active"]
    if changed:
        user.save()
    return user


def bench_api_key(user: User) -> str:
    if KEY_FILE.exists():
        key = KEY_FILE.read_text().strip()
        row = ApiKey.objects.filter(key_hash=sha256_hex(key), user=user, revoked_at=None).first()
        usable = row and row.scope == ApiKeyScope.READ_WRITE
        if usable and (row.expires_at is None or row.expires_at > timezone.now()):
            return key
    _, key = api_key_create(user=user, name="bench", scope=ApiKeyScope.READ_WRITE)
    KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    KEY_FILE.write_text(key + "\n")
    KEY_FILE.chmod(0o600)
    return key


def bench_file(user: User) -> str:
    """A 1 MiB text file of the bench user for the download row (the same bytes every run)."""
    import hashlib

    from files.models import File
    from tests.support.files_factories import file_create

    data = (b"Parecer download benchmark line of text.\n" * 30000)[: 1024 * 1024]
    existing = File.objects.filter(owner=user, sha256=hashlib.sha256(data).hexdigest()).first()
    return str((existing or file_create(owner=user, data=data, name="download.txt")).pk)


def files_cleanup(user: User) -> None:
    """Remove what the upload rows stored (rows, blobs, their queued extraction tasks)."""
    from django_tasks_db.models import DBTaskResult

    from files.models import File

    keep = bench_file(user)
    for file_id in File.objects.filter(owner=user).exclude(pk=keep).values_list("pk", flat=True):
        File.objects.filter(pk=file_id).delete()  # the blob goes with the row (files.receivers)
    DBTaskResult.objects.filter(task_path="files.tasks.file_extract").delete()
    # And what the analyses_create row queued: its analyses (not the status-read one), their
    # tasks; the budget reservations stay (a test budget, reset monthly).
    from analyses.models import Analysis

    keep = bench_analysis(user)
    Analysis.objects.filter(owner=user).exclude(pk=keep).delete()
    DBTaskResult.objects.filter(task_path="analyses.tasks.analysis_run").delete()


def bench_analysis(user: User) -> str:
    """The analysis the status-read scenario reads: one queued analysis of the bench prompt (the
    same one every run: an idempotency key); no worker runs during the bench."""
    import json

    from analyses.services.submission import analysis_submit

    body = json.loads(Path("scripts/bench/analysis_create.json").read_text())
    submitted = analysis_submit(
        user=user, prompt_slug=body["prompt"], variables=body["variables"], file_ids=[],
        idempotency_key="bench-status-read",
    )  # fmt: skip
    return str(submitted.analysis.pk)


user = bench_user()
if "--files-cleanup" in sys.argv:
    files_cleanup(user)
    sys.exit(0)
token, ttl = access_token_issue(user_id=user.pk, token_version=user.token_version)
key = bench_api_key(user)

wanted = int(os.environ.get("BENCH_AUDIT_EVENTS", "0"))
have = AuditEvent.objects.count()
if wanted > have:
    print(f"seeding {wanted - have} audit events (once; ~4 min per million) ...", file=sys.stderr)
    call_command("seed_audits", str(wanted - have), stdout=sys.stderr)
    have = AuditEvent.objects.count()
invoice_paid = AuditEvent.objects.filter(action="invoice.paid").count()


def bench_prompt() -> str:
    """The prompt the resolve and render scenarios use: 3 messages, 5 variables, production
    (created as the operator: a staff user may not move production)."""
    from prompts.models import Prompt
    from prompts.services.prompts import prompt_create

    slug = "bench-review"
    if not Prompt.objects.filter(slug=slug).exists():
        from tests.support.prompts_factories import version_content

        prompt_create(
            slug=slug, name="Bench review", actor=None, tags=["bench"],
            version=version_content(note="bench"), labels=["production"],
        )  # fmt: skip
    return slug


prompt_slug = bench_prompt()


print(f"export BENCH_JWT='{token}' BENCH_JWT_TTL='{ttl}'")
print(f"export BENCH_API_KEY='{key}'")
print(f"export BENCH_EMAIL='{EMAIL}' BENCH_PASSWORD='{PASSWORD}'")
print(f"export BENCH_FILE_ID='{bench_file(user)}'")
print(f"export BENCH_AUDIT_ROWS='{have}' BENCH_AUDIT_INVOICE_PAID='{invoice_paid}'")
print(f"export BENCH_PROMPT='{prompt_slug}'")
print(f"export BENCH_ANALYSIS_ID='{bench_analysis(user)}'")

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import context
from core.errors import DomainError
from prompts.services.transfer import prompts_import_document


class Command(BaseCommand):
    help = (
        "Apply a prompts document (from prompts_export): creates prompts and new versions (never "
        "overwrites; identical content is recognised by its hash) and moves labels. Idempotent."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The JSON document ('-' for standard input).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; change nothing."
        )

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
            document = json.loads(text)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            with context.bound(context.for_command("prompts_import")):
                changes = prompts_import_document(document=document, actor=None, dry_run=dry_run)
        except DomainError as exc:
            detail = f" {exc.details}" if exc.details else ""
            raise CommandError(f"{exc.code}: {exc.message}{detail}") from exc
        prefix = "would " if dry_run else ""
        for change in changes:
            what = change["action"].replace("_", " ")
            extra = ", ".join(f"{k}={v}" for k, v in change.items() if k not in ("slug", "action"))
            self.stdout.write(
                f"{change['slug']}: {prefix}{what}" + (f" ({extra})" if extra else "")
            )
        summary = f"{len(changes)} change(s)" + (" (dry run: nothing written)" if dry_run else "")
        self.stdout.write(self.style.SUCCESS(summary if changes else "Nothing to change."))

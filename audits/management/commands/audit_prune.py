import re
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audits.services import audit_prune
from core import context
from core.errors import DomainError


def parse_age(value: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([dh])", value.strip())
    if not match:
        raise CommandError(f"--older-than must look like 400d or 12h, not {value!r}")
    amount, unit = int(match[1]), match[2]
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)


class Command(BaseCommand):
    help = "Delete audit events older than --older-than (default AUDIT_RETENTION_DAYS) behind a signed checkpoint."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", default=f"{settings.AUDIT_RETENTION_DAYS}d")

    def handle(self, *args, older_than: str, **options) -> None:
        age = parse_age(older_than)
        with context.bound(context.for_command("audit_prune")):
            try:
                checkpoint = audit_prune(older_than=age)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        if checkpoint is None:
            self.stdout.write(f"nothing older than {older_than}")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"pruned through sequence {checkpoint.sequence}; checkpoint saved"
                )
            )

import json

from django.core.management.base import BaseCommand, CommandError

from audits.chain import chain_verify


class Command(BaseCommand):
    help = (
        "Walk the audit HMAC chain; exit 1 and name the first broken event if it was tampered with."
    )

    def handle(self, *args, **options) -> None:
        report = chain_verify()
        self.stdout.write(json.dumps(report.as_dict(), indent=2))
        if not report.ok:
            raise CommandError(
                f"audit chain broken at sequence {report.broken_at_sequence}: {report.reason}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"audit chain intact: {report.checked} events; head {report.last_sequence} "
                f"{report.head_hmac} (keep this line outside the database)"
            )
        )

from django.core.management.base import BaseCommand

from accounts.tasks import expired_sessions_clear, periodic_ensure_scheduled


class Command(BaseCommand):
    help = "Start the periodic housekeeping tasks if they are not already scheduled (idempotent)."

    def handle(self, *args, **options) -> None:
        started = periodic_ensure_scheduled(periodic_task=expired_sessions_clear, delay_seconds=0)
        state = "scheduled" if started else "already scheduled"
        self.stdout.write(f"expired_sessions_clear: {state}")

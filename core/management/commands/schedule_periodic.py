from django.core.management.base import BaseCommand

from core.tasks import periodic_ensure_scheduled, periodic_tasks


class Command(BaseCommand):
    help = "Start every app's periodic tasks that are not already scheduled (idempotent)."

    def handle(self, *args, **options) -> None:
        for periodic in periodic_tasks():
            started = periodic_ensure_scheduled(periodic_task=periodic.task, delay_seconds=0)
            state = "scheduled" if started else "already scheduled"
            self.stdout.write(f"{periodic.name} (every {periodic.every()} s): {state}")

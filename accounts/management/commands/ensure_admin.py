import secrets

import environ
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, User
from audits.services import audit_event_record
from core import context


class Command(BaseCommand):
    help = (
        "Create the first admin from DJANGO_SUPERUSER_EMAIL / DJANGO_SUPERUSER_PASSWORD, or with a "
        "generated password printed once. Does nothing when an admin already exists."
    )

    def handle(self, *args, **options) -> None:
        # Read at run time (like arguments): DJANGO_SUPERUSER_PASSWORD_FILE works too.
        env = environ.FileAwareEnv()
        email = env.str("DJANGO_SUPERUSER_EMAIL", default="admin@localhost")
        password = env.str("DJANGO_SUPERUSER_PASSWORD", default="")
        if User.objects.filter(role=Role.ADMIN, is_active=True).exists():
            self.stdout.write("An active admin already exists; nothing to do.")
            return
        if User.objects.filter(email__iexact=email).exists():
            self.stderr.write(
                f"{email} exists but is not an active admin; promote it in the admin."
            )
            return
        generated = not password
        password = password or secrets.token_urlsafe(18)
        with context.bound(context.for_command("ensure_admin")), transaction.atomic():
            admin = User.objects.create_superuser(
                email=email, password=password, full_name="Administrator"
            )
            audit_event_record(
                action="user.created",
                entity_type="user",
                entity_id=admin.pk,
                details={"email": admin.email, "role": admin.role},
            )
        self.stdout.write(self.style.SUCCESS(f"Created admin {email}."))
        if generated:
            self.stdout.write(f"Its generated password (shown once): {password}")

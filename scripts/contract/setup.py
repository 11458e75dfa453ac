"""Fuzz identities on the fuzz database; prints shell `export` lines for scripts/contract-fuzz.sh.

Three people with known passwords, verified addresses and a day-long access token each: an admin (reaches every
operation), and two plain users, the peers, who must never see each other's objects.
Run with the production environment: PYTHONPATH=. python scripts/contract/setup.py
"""

import django

django.setup()

from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from accounts.tokens import access_token_issue  # noqa: E402

PASSWORD = "fuzz-password-not-secret-1"
PEOPLE = {"ADMIN": ("ann@example.com", Role.ADMIN), "BOB": ("bob@example.com", Role.USER)}
PEOPLE["CAROL"] = ("carol@example.com", Role.USER)

for name, (email, role) in PEOPLE.items():
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=PASSWORD, role=role, full_name=name.title()
    )
    if user.email_verified_at is None:  # API keys need a verified address
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    token, _ = access_token_issue(user_id=user.pk, token_version=user.token_version)
    print(f"export FUZZ_{name}_ID='{user.pk}' FUZZ_{name}_TOKEN='{token}'")
print(f"export FUZZ_PASSWORD='{PASSWORD}'")

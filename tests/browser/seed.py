"""Rows for the browser suite, run inside the server's environment by ``manage.py shell``.

Every run starts its people afresh (the trail they leave is kept, as in production). Prints one
JSON line: the credentials and the ids the actions will target.
"""

import json

from django.utils import timezone

from accounts.models import Role, User
from accounts.services import api_keys, sessions
from core import context

PASSWORD = "Browser-suite-passphrase-9"
PEOPLE = {
    "admin": ("browser-admin@example.com", Role.ADMIN),
    "staff": ("browser-staff@example.com", Role.STAFF),
    "person": ("browser-person@example.com", Role.USER),
    "victim": ("browser-victim@example.com", Role.USER),
    "doomed": ("browser-doomed@example.com", Role.USER),
}

with context.bound(context.for_command("browser_seed")):
    User.objects.filter(email__in=[email for email, _ in PEOPLE.values()]).delete()
    people = {
        name: User.objects.create_user(
            email, PASSWORD, role=role, full_name=name.title(), email_verified_at=timezone.now()
        )
        for name, (email, role) in PEOPLE.items()
    }
    key, _ = api_keys.api_key_create(user=people["person"], name="browser-ci")
    doomed_key, _ = api_keys.api_key_create(user=people["doomed"], name="doomed-key")
    issued = sessions.login(email=PEOPLE["person"][0], password=PASSWORD)
    sessions.login(email=PEOPLE["doomed"][0], password=PASSWORD)
    token = people["person"].refresh_tokens.get()

print(
    json.dumps(
        {
            "password": PASSWORD,
            "emails": {name: email for name, (email, _) in PEOPLE.items()},
            "ids": {name: str(user.pk) for name, user in people.items()},
            "api_key_id": str(key.pk),
            "refresh_token_id": str(token.pk),
            "access_token": issued.access_token,
        }
    )
)

"""The Staff role group may work with this app's models in the back office (admins have all)."""

from django.db import migrations

from accounts.role_groups import permissions_grant, permissions_revoke

STAFF = [
    "files.view_file",
    "files.delete_file",
]


def grant(apps, schema_editor) -> None:
    permissions_grant(apps, group="Staff", permissions=STAFF)


def revoke(apps, schema_editor) -> None:
    permissions_revoke(apps, group="Staff", permissions=STAFF)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_role_groups"), ("files", "0001_initial")]

    operations = [migrations.RunPython(grant, revoke)]

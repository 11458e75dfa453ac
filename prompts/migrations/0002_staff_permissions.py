"""The Staff role group may work with this app's models in the back office (admins have all)."""

from django.db import migrations

from accounts.role_groups import permissions_grant, permissions_revoke

STAFF = [
    "prompts.view_prompt",
    "prompts.add_prompt",
    "prompts.change_prompt",
    "prompts.view_promptversion",
    "prompts.add_promptversion",
    "prompts.view_promptlabel",
    "prompts.view_promptlabelmove",
]


def grant(apps, schema_editor) -> None:
    permissions_grant(apps, group="Staff", permissions=STAFF)


def revoke(apps, schema_editor) -> None:
    permissions_revoke(apps, group="Staff", permissions=STAFF)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_role_groups"), ("prompts", "0001_initial")]

    operations = [migrations.RunPython(grant, revoke)]

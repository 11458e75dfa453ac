"""The Staff and Admin groups, Staff's permissions, and every existing user placed by role."""

from django.db import migrations

from accounts.role_groups import ROLE_GROUPS, STAFF_PERMISSIONS, permissions_grant


def forwards(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS.values():
        group_model.objects.get_or_create(name=name)
    permissions_grant(apps, group="Staff", permissions=STAFF_PERMISSIONS)
    user_model = apps.get_model("accounts", "User")
    for role, name in ROLE_GROUPS.items():
        group = group_model.objects.get(name=name)
        group.user_set.add(*user_model.objects.filter(role=role))


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS.values()).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_preferences"),
        ("audits", "0002_chain_head"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

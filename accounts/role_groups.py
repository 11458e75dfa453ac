"""Roles as admin permissions: one auth Group per back-office role, kept in step with ``User.role``.

``admin`` users are superusers (``User.save``): every permission, so their group carries none; it
marks membership for anyone reading the Groups page. ``staff`` get exactly what the Staff group
holds. Each app grants its own models to Staff by a data migration of its own (never by editing
this file), with the two functions below, which work on migration-time (historical) models::

    from accounts.role_groups import permissions_grant, permissions_revoke
    STAFF = ["prompts.view_prompt", "prompts.add_prompt", "prompts.change_prompt"]
    migrations.RunPython(
        lambda apps, schema: permissions_grant(apps, group="Staff", permissions=STAFF),
        lambda apps, schema: permissions_revoke(apps, group="Staff", permissions=STAFF),
    )
    # dependencies: ("accounts", "0004_role_groups") and the app's own model migration
"""

from django.contrib.auth.management import create_permissions

from core.permissions import Role

ROLE_GROUPS = {Role.STAFF: "Staff", Role.ADMIN: "Admin"}

# What staff may do in the back office today: review the audit trail, look people and their
# credentials up, revoke API keys (ApiKeyAdmin's "revoke" action needs change_apikey). Managing
# users, sessions and configurations stays with admins.
STAFF_PERMISSIONS = [
    "audits.view_auditevent",
    "audits.change_auditevent",
    "audits.view_auditcheckpoint",
    "accounts.view_user",
    "accounts.view_apikey",
    "accounts.change_apikey",
    "accounts.view_refreshtoken",
]


def _permissions(apps, names: list[str]):
    """The Permission rows for ``app_label.codename`` names, created first if need be (in a fresh
    database permissions only appear after the last migration, through post_migrate)."""
    for config in apps.get_app_configs():
        config.models_module = True  # historical app configs: create_permissions skips None
        create_permissions(config, apps=apps, verbosity=0)
    permission_model = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".", 1)
        found.append(
            permission_model.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return found


def permissions_grant(apps, *, group: str, permissions: list[str]) -> None:
    """Add these permissions to the role group (created when missing)."""
    group_model = apps.get_model("auth", "Group")
    role_group, _ = group_model.objects.get_or_create(name=group)
    role_group.permissions.add(*_permissions(apps, permissions))


def permissions_revoke(apps, *, group: str, permissions: list[str]) -> None:
    """The reverse of ``permissions_grant`` (the group itself stays)."""
    group_model = apps.get_model("auth", "Group")
    role_group = group_model.objects.filter(name=group).first()
    if role_group is not None:
        role_group.permissions.remove(*_permissions(apps, permissions))


def role_groups_sync(user) -> None:
    """Make ``user``'s group membership match their role (called by ``User.save``)."""
    from django.contrib.auth.models import Group

    wanted = ROLE_GROUPS.get(user.role)
    current = set(user.groups.filter(name__in=ROLE_GROUPS.values()).values_list("name", flat=True))
    if current == ({wanted} if wanted else set()):
        return
    user.groups.remove(*Group.objects.filter(name__in=current - {wanted}))
    if wanted:
        user.groups.add(Group.objects.get_or_create(name=wanted)[0])

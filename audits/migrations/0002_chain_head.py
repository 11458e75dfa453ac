"""The chain head row exists from the start, so the first writers never race to create it."""

from django.db import migrations


def head_create(apps, schema_editor):
    AuditChainHead = apps.get_model("audits", "AuditChainHead")
    AuditChainHead.objects.get_or_create(pk=1, defaults={"sequence": 0, "hmac": "0" * 64})


def head_delete(apps, schema_editor):
    apps.get_model("audits", "AuditChainHead").objects.filter(pk=1, sequence=0).delete()


class Migration(migrations.Migration):
    dependencies = [("audits", "0001_initial")]

    operations = [migrations.RunPython(head_create, head_delete)]

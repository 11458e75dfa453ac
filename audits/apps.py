from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    default_auto_field = "django.db.models.BigAutoField"
    # Cards on the back-office dashboard (config/backoffice.py).
    dashboard_cards = "audits.dashboard.dashboard_cards"
    # Audit actions under these namespaces are recorded by Parecer itself (the audit trail's own operations);
    # external clients may not use them (``audits.services.reserved_namespaces``).
    audit_namespaces = (
        "audit",
        "audits",
    )

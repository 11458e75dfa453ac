from django.apps import AppConfig


class PromptsConfig(AppConfig):
    name = "prompts"
    default_auto_field = "django.db.models.BigAutoField"
    # Audit actions under these namespaces are recorded by Parecer itself (prompts, versions, labels and system configuration);
    # external clients may not use them (``audits.services.reserved_namespaces``).
    audit_namespaces = (
        "prompt",
        "prompts",
        "configuration",
        "configurations",
    )

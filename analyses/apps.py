from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    name = "analyses"
    default_auto_field = "django.db.models.BigAutoField"
    # Audit actions under these namespaces are recorded by Parecer itself (analyses and LLM calls);
    # external clients may not use them (``audits.services.reserved_namespaces``).
    audit_namespaces = (
        "analysis",
        "analyses",
        "llm",
    )

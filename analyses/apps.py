from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    name = "analyses"
    default_auto_field = "django.db.models.BigAutoField"
    dashboard_cards = "analyses.dashboard.dashboard_cards"
    # Audit actions under these namespaces are recorded by Parecer itself (analyses and LLM calls);
    # external clients may not use them (``audits.services.reserved_namespaces``).
    audit_namespaces = (
        "analysis",
        "analyses",
        "llm",
    )

    def ready(self) -> None:
        from django.db.models.signals import post_delete, pre_delete

        from analyses import metrics, receivers

        pre_delete.connect(
            receivers.file_delete_guard,
            sender="files.File",
            dispatch_uid="analyses_file_delete_guard",
        )
        post_delete.connect(
            receivers.analysis_deleted,
            sender="analyses.Analysis",
            dispatch_uid="analyses_analysis_deleted",
        )
        metrics.register_state_collector()

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

    def ready(self) -> None:
        from django.db.models.signals import post_save, pre_delete

        from prompts import receivers

        post_save.connect(
            receivers.author_saved, sender="accounts.User", dispatch_uid="prompts_author_saved"
        )
        pre_delete.connect(
            receivers.author_deleted, sender="accounts.User", dispatch_uid="prompts_author_deleted"
        )

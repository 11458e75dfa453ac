from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    default_auto_field = "django.db.models.BigAutoField"
    # Audit actions under these namespaces are recorded by Parecer itself (uploads and their processing);
    # external clients may not use them (``audits.services.reserved_namespaces``).
    audit_namespaces = (
        "file",
        "files",
    )

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from files import receivers

        post_delete.connect(
            receivers.file_blob_delete_on_commit,
            sender="files.File",
            dispatch_uid="files_blob_delete_on_commit",
        )

"""Signal receivers: how analyses guard what other apps own without those apps importing it."""

from core.errors import Conflict


def file_delete_guard(sender, instance, **kwargs) -> None:
    """Refuse to delete a file while a queued or running analysis uses it (409 ``file_in_use``)."""
    from analyses import selectors

    if selectors.file_in_active_analysis(file_id=instance.pk):
        raise Conflict(
            "A queued or running analysis uses this file; wait for it or cancel it first.",
            code="file_in_use",
            details={"file_id": str(instance.pk)},
        )


def analysis_deleted(sender, instance, **kwargs) -> None:
    """Any deletion (the service, the admin, the owner's account cascading): its cached read goes."""
    from analyses.documents import analysis_changed

    analysis_changed(instance.pk)

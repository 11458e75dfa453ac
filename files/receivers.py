"""Signal receivers of the files app."""

from django.db import transaction

from files.blobs import blob_delete


def file_blob_delete_on_commit(sender, instance, **kwargs) -> None:
    """Every deleted file row, however it went (``file_delete``, the admin, the owner's account
    deleted and its files cascading), takes its blob with it once the deletion commits; a
    rolled-back delete keeps the bytes."""
    key = instance.storage_key
    # Robust: one storage error (logged by Django) must not skip the other files' blobs.
    transaction.on_commit(lambda: blob_delete(key=key), using=kwargs.get("using"), robust=True)

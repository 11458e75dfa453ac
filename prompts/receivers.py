"""Signal receivers of the prompts app: what it caches of other apps' rows follows their changes."""

from prompts.models import PromptVersion
from prompts.resolve_cache import resolve_cache_forget_around_commit


def _forget_prompts_authored_by(user_id) -> None:
    slugs = set(
        PromptVersion.objects.filter(author_id=user_id).values_list("prompt__slug", flat=True)
    )
    for slug in slugs:
        resolve_cache_forget_around_commit(slug=slug)


def author_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """A cached resolution shows its version's author's e-mail: a changed e-mail drops it."""
    if created or (update_fields is not None and "email" not in update_fields):
        return  # e.g. a sign-in's last_login: nothing a resolution shows
    _forget_prompts_authored_by(instance.pk)


def author_deleted(sender, instance, **kwargs) -> None:
    """Before a user is deleted (their versions' author becomes empty), drop what showed them."""
    _forget_prompts_authored_by(instance.pk)

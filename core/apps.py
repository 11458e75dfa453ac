from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: no models and no migrations; an app only so it can own commands."""

    name = "core"
    verbose_name = "Kernel"

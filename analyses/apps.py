from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    name = "analyses"
    default_auto_field = "django.db.models.BigAutoField"

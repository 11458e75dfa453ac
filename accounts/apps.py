from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
    # Cards on the back-office dashboard (config/backoffice.py).
    dashboard_cards = "accounts.dashboard.dashboard_cards"
    # Audit actions under these namespaces are recorded by Parecer itself (users, sign-in, tokens, API keys and sessions);
    # external clients may not use them (``audits.services.reserved_namespaces``).
    audit_namespaces = (
        "auth",
        "user",
        "users",
        "session",
        "sessions",
        "api_key",
        "api_keys",
    )

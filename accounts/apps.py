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

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts import cached_users

        # The shared cache's copy of a user (``accounts.cached_users``) is dropped by every write.
        post_save.connect(
            cached_users.user_written, sender="accounts.User", dispatch_uid="accounts_user_saved"
        )
        post_delete.connect(
            cached_users.user_written, sender="accounts.User", dispatch_uid="accounts_user_deleted"
        )

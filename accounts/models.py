"""People and their credentials: users (e-mail login, roles), refresh tokens, API keys."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from accounts.role_groups import role_groups_sync
from core.permissions import Role, is_admin, is_staff_member


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("role", Role.USER)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields["role"] = Role.ADMIN
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email__iexact=username)

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address; ``role`` drives Django's staff flags."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("e-mail address", max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, editable=False)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # Carried in every access token and compared on each request: raising it revokes every
    # access token issued before (logout everywhere, password change and reset).
    token_version = models.PositiveIntegerField(default=0, editable=False)
    # A frontend's own settings for this person (theme, defaults); opaque to the backend, <= 16 KiB.
    preferences = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            # Ann@x.io and ann@x.io are one account, whatever path wrote the row.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        indexes = [models.Index(fields=["role", "is_active"], name="accounts_user_role_active")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = UserManager.normalize_email(self.email)
        # The admin site reads is_staff/is_superuser; the role is the single source of truth.
        self.is_staff = self.role in (Role.STAFF, Role.ADMIN)
        self.is_superuser = self.role == Role.ADMIN
        update_fields = kwargs.get("update_fields")
        role_saved = update_fields is None or "role" in update_fields
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        if update_fields is None and not self._state.adding:
            # token_version only ever moves by an atomic increment (sessions_end_all): a full
            # save of an instance loaded earlier must not write an old version back and revive
            # revoked access tokens.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "token_version"
            ]
        super().save(*args, **kwargs)
        if role_saved:
            # The role's admin permissions come from its group (accounts/role_groups.py).
            role_groups_sync(self)

    @property
    def is_staff_member(self) -> bool:
        return is_staff_member(self)

    @property
    def is_admin(self) -> bool:
        return is_admin(self)


class RefreshToken(models.Model):
    """One refresh token (stored only as a SHA-256 hash). Each use rotates it: the old row is
    marked used and a new one joins the same family; presenting a used one revokes the family."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    family = models.UUIDField(default=uuid.uuid4, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_refresh_user_live")]

    def __str__(self) -> str:
        return f"refresh token of {self.user_id} ({self.family})"


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read"
    READ_WRITE = "read+write", "Read and write"


class ApiKey(models.Model):
    """A machine client's key: shown once, stored as a SHA-256 hash, recognisable by its prefix."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.READ_WRITE

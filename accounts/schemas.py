"""Request and response shapes of /auth and /users. Unknown fields in a body are refused (422),
so ``role`` or ``is_staff`` in a sign-up or profile change never slips through."""

import uuid
from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import EmailStr

from accounts.models import ApiKeyScope, Role
from core.schemas import StrictIn, UtcDatetime


class RegisterIn(StrictIn):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)
    full_name: str = Field("", max_length=200)


class LoginIn(StrictIn):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)
    mode: Literal["token", "cookie"] = "token"


class TokenOut(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class CookieSessionOut(Schema):
    token_type: Literal["cookie"] = "cookie"
    expires_in: int
    csrf_token: str


class RefreshIn(StrictIn):
    refresh_token: str | None = Field(None, max_length=2000)
    mode: Literal["token", "cookie"] = "token"


class LogoutIn(StrictIn):
    refresh_token: str | None = Field(None, max_length=2000)
    everywhere: bool = False


class UserOut(Schema):
    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    email_verified_at: datetime | None
    last_login: datetime | None
    created_at: datetime
    updated_at: datetime


class MeUpdateIn(StrictIn):
    full_name: str | None = Field(None, max_length=200)
    email: EmailStr | None = None
    current_password: str | None = Field(
        None,
        max_length=128,
        description="Required when `email` changes (recent authentication); else ignored.",
    )


class PasswordChangeIn(StrictIn):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class PasswordResetIn(StrictIn):
    email: str = Field(min_length=1, max_length=254)


class PasswordResetConfirmIn(StrictIn):
    uid: str = Field(min_length=1, max_length=100)
    token: str = Field(min_length=1, max_length=100)
    new_password: str = Field(min_length=1, max_length=128)


class EmailVerifyConfirmIn(StrictIn):
    uid: str = Field(min_length=1, max_length=100)
    token: str = Field(min_length=1, max_length=100)


class AcceptedOut(Schema):
    detail: str


class ApiKeyIn(StrictIn):
    current_password: str = Field(
        min_length=1, max_length=128, description="Your password: a key outlives any session."
    )
    name: str = Field(min_length=1, max_length=100)
    scope: ApiKeyScope = ApiKeyScope.READ
    expires_at: UtcDatetime | None = None


class ApiKeyOut(Schema):
    id: uuid.UUID
    name: str
    prefix: str
    scope: ApiKeyScope
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The secret. Shown only in this response; store it now.")


class UserFilters(Schema):
    q: str = Field("", max_length=100, description="Search e-mail and name")
    role: Role | None = None
    is_active: bool | None = None


class UserUpdateIn(StrictIn):
    role: Role | None = None
    is_active: bool | None = None
    full_name: str | None = Field(None, max_length=200)

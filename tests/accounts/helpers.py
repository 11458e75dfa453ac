"""Calls the accounts tests make over and over, through the real HTTP stack."""

from tests.support.http import error_code, post_json

PASSWORD = "correct-horse-battery-staple"

__all__ = ["PASSWORD", "bearer_of", "error_code", "login", "post_json"]


def login(client, email: str, password: str = PASSWORD, *, mode: str | None = None, **headers):
    body = {"email": email, "password": password, **({"mode": mode} if mode else {})}
    return post_json(client, "/auth/login", body, **headers)


def bearer_of(tokens: dict) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}

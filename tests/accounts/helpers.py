"""Calls the accounts tests make over and over, through the real HTTP stack."""

PASSWORD = "correct-horse-battery-staple"


def post_json(client, path: str, body: dict | None = None, **headers):
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json", **headers)


def login(client, email: str, password: str = PASSWORD, *, mode: str | None = None, **headers):
    body = {"email": email, "password": password, **({"mode": mode} if mode else {})}
    return post_json(client, "/auth/login", body, **headers)


def bearer_of(tokens: dict) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}


def error_code(response) -> str:
    return response.json()["error"]["code"]

def test_login_then_me_returns_the_user(client, user):
    response = client.post(
        "/api/v1/auth/login",
        {"email": user.email.upper(), "password": "correct-horse-battery-staple"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]

    me = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert me.status_code == 200
    assert me.json()["email"] == user.email

import pytest


@pytest.mark.parametrize("path", ["/", "/api/v1/"])
def test_service_info_lists_docs_health_and_every_collection(client, path):
    response = client.get(path)

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "parecer"
    assert body["version"]
    links = body["links"]
    assert links["docs"] == "/api/v1/docs"
    assert links["openapi"] == "/api/v1/openapi.json"
    assert links["health"] == "/health"
    for collection in ("auth", "users", "audits", "prompts", "files", "analyses"):
        assert links[collection] == f"/api/v1/{collection}"

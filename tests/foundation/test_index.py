import pytest

from config.api import ROUTERS


@pytest.mark.parametrize("path", ["/", "/api/v1/"])
def test_service_info_lists_docs_health_and_only_collections_that_exist(
    client, path, admin, bearer
):
    response = client.get(path)

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "parecer"
    assert body["version"]
    links = body["links"]
    assert links["docs"] == "/api/v1/docs"
    assert links["openapi"] == "/api/v1/openapi.json"
    assert links["health"] == "/health"
    assert links["me"] == "/api/v1/auth/me"
    for collection in ("users", "audits"):
        assert links[collection] == f"/api/v1/{collection}"
    # /auth has no list, and a router whose app has not landed yet has no routes: no link.
    assert "auth" not in links
    for name, (_prefix, router) in ROUTERS.items():
        if not router.path_operations:
            assert name not in links, name
    # Every link answers an admin: nothing the index advertises is a 404.
    for name, link in links.items():
        if name in ("admin", "metrics"):
            continue
        answer = client.get(link, **bearer(admin))
        assert answer.status_code == 200, (name, link, answer.status_code)


def test_a_router_that_gains_a_list_route_gets_its_link(client, monkeypatch):
    from ninja import Router

    router = Router()

    @router.get("")
    def prompt_list(request):
        return []

    monkeypatch.setitem(ROUTERS, "prompts", ("/prompts", router))

    assert client.get("/api/v1/").json()["links"]["prompts"] == "/api/v1/prompts"

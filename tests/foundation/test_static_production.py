"""Production serves its own static files: the admin is styled and the Swagger UI loads.

Boots ``config.settings.prod`` under gunicorn (collectstatic into a temporary STATIC_ROOT first)
and fetches what a browser would: the stylesheets the admin sign-in page links and the Swagger UI
bundle the API docs link, by their hashed names, compressed, with far-future caching.
"""

import gzip
import re
import urllib.error
import urllib.request

import pytest

from tests.support.prod_server import production_server

FAR_FUTURE = "max-age=315360000, public, immutable"


def _fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prod-static")
    # Serving static files touches neither the database nor the cache.
    with production_server(tmp, database_url=f"sqlite:///{tmp / 'db.sqlite3'}") as running:
        yield running


def _linked(page: bytes, pattern: str) -> list[str]:
    return re.findall(pattern, page.decode())


def test_admin_stylesheets_are_served_hashed_compressed_and_cached_forever(server):
    status, _, page = _fetch(f"{server.base_url}/admin/login/")
    assert status == 200
    stylesheets = _linked(page, r'<link[^>]+href="(/static/[^"]+\.css)"')
    assert stylesheets, page[:500]
    for href in stylesheets:
        # The manifest storage names each file by its content: name.<12 hex>.css.
        assert re.search(r"\.[0-9a-f]{12}\.css$", href), href
        status, headers, body = _fetch(server.base_url + href, **{"Accept-Encoding": "gzip"})
        assert status == 200, href
        assert headers["Content-Type"].startswith("text/css")
        assert headers["Cache-Control"] == FAR_FUTURE
        assert headers["Content-Encoding"] == "gzip"
        assert b"{" in gzip.decompress(body)


def test_swagger_ui_bundle_is_served_for_the_api_docs(server):
    status, headers, page = _fetch(f"{server.base_url}/api/v1/docs")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    (bundle,) = _linked(page, r'src="(/static/ninja/swagger-ui-bundle\.[0-9a-f]{12}\.js)"')
    (init,) = _linked(page, r'src="(/static/ninja/swagger-ui-init\.[0-9a-f]{12}\.js)"')
    (css,) = _linked(page, r'href="(/static/ninja/swagger-ui\.[0-9a-f]{12}\.css)"')
    for href in (bundle, init, css):
        status, headers, body = _fetch(server.base_url + href, **{"Accept-Encoding": "br"})
        assert status == 200, href
        assert headers["Cache-Control"] == FAR_FUTURE
        assert headers["Content-Encoding"] == "br"
    status, headers, body = _fetch(server.base_url + bundle)
    assert headers["Content-Type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in body


def test_unknown_static_file_is_a_404_not_the_app(server):
    status, _, _ = _fetch(f"{server.base_url}/static/admin/css/no-such-file.css")
    assert status == 404

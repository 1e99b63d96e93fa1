"""With DEBUG=false, the admin and the API docs load every asset they reference, offline.

The test settings use plain static storage, so this runs the real thing: `collectstatic`
with production settings into a temporary STATIC_ROOT, then gunicorn from
deploy/gunicorn.conf.py serving it through WhiteNoise, with no proxy in front.
"""

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.deploy.conftest import app_env, migrated_sqlite, referenced_assets, start_gunicorn

pytestmark = pytest.mark.deploy

HASHED = re.compile(r"\.[0-9a-f]{12}\.(css|js|png|svg|ico)$")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


@pytest.fixture(scope="module")
def app(processes, static_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("static-app")
    env = app_env(
        DATABASE_URL=migrated_sqlite(folder),
        STATIC_ROOT=static_root,
        MEDIA_ROOT=folder / "media",
    )
    return start_gunicorn(processes, "gunicorn", folder, env)


def fetch_ok(client: httpx.Client, url: str) -> httpx.Response:
    response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    assert response.content, f"{url} is empty"
    return response


@pytest.mark.parametrize("page", ["/admin/login/", "/swagger/", "/redoc/"])
def test_page_loads_every_asset_it_references(app, page):
    with httpx.Client(timeout=20) as client:
        response = fetch_ok(client, app.base_url + page)
        assert response.headers["content-type"].startswith("text/html")
        assets = referenced_assets(response.text, str(response.url))
        scripts_and_styles = [u for u in assets if urlsplit(u).path.endswith((".js", ".css"))]
        assert scripts_and_styles, f"{page} references no CSS or JS at all: {assets}"

        for url in assets:
            asset = fetch_ok(client, url)
            path = urlsplit(url).path
            assert HASHED.search(path), f"{path}: not a hashed (manifest) name"
            # WhiteNoise marks hashed files as cacheable forever.
            assert "immutable" in asset.headers.get("cache-control", ""), path
            if path.endswith(".css"):
                assert asset.headers["content-type"].startswith("text/css"), path
                # One level deeper: images and fonts the stylesheet itself pulls in.
                for ref in CSS_URL.findall(asset.text):
                    if ref.startswith(("data:", "#")):
                        continue
                    nested = urljoin(url, ref)
                    assert urlsplit(nested)[:2] == urlsplit(url)[:2], f"{path} loads {ref}"
                    fetch_ok(client, nested.split("#")[0])
            if path.endswith(".js"):
                assert "javascript" in asset.headers["content-type"], path


def test_docs_pages_read_the_schema_from_this_server(app):
    with httpx.Client(timeout=20) as client:
        for page in ("/swagger/", "/redoc/"):
            assert "/swagger.json" in fetch_ok(client, app.base_url + page).text
        schema = fetch_ok(client, app.base_url + "/swagger.json")
        assert schema.json()["openapi"].startswith("3.")


def test_debug_is_off(app):
    response = httpx.get(app.base_url + "/no-such-page", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_compressed_variants_are_served_to_clients_that_accept_them(app):
    with httpx.Client(timeout=20) as client:
        page = fetch_ok(client, app.base_url + "/swagger/")
        bundle = next(u for u in referenced_assets(page.text, str(page.url)) if "bundle" in u)
        response = client.get(bundle, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers.get("content-encoding") in {"gzip", "br"}

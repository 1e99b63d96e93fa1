"""The production stack on loopback: Debian's nginx from deploy/nginx/funsun.conf, over TLS,
in front of gunicorn from deploy/gunicorn.conf.py, with production settings (DEBUG off,
https redirect on, secure cookies, HSTS, NUM_PROXIES=1) on a temporary SQLite database.

Everything goes through nginx as the app would: sign up, log in, open a funding with an
image, fetch the image from /media/, load /swagger/ and its assets, read /healthz.
"""

import io
import re
import uuid

import httpx
import pytest
from PIL import Image

from tests.deploy.conftest import (
    app_env,
    bearer,
    free_port,
    funding_form,
    gunicorn,
    migrated_sqlite,
    png_bytes,
    referenced_assets,
    report_limits,
    signup,
    start_gunicorn,
    start_nginx,
)

pytestmark = pytest.mark.deploy


@pytest.fixture(scope="module")
def stack(processes, static_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx-stack")
    media_root = folder / "media"
    media_root.mkdir()
    env = app_env(
        DATABASE_URL=migrated_sqlite(folder),
        STATIC_ROOT=static_root,
        MEDIA_ROOT=media_root,
        # Production posture: nginx alone serves /media/, Django insists on https and
        # trusts exactly one proxy for the client's address.
        SERVE_MEDIA="false",
        NUM_PROXIES="1",
        SECURE_SSL_REDIRECT="true",
        SESSION_COOKIE_SECURE="true",
        CSRF_COOKIE_SECURE="true",
        SECURE_HSTS_SECONDS="3600",
    )
    app = start_gunicorn(processes, "gunicorn", folder, env)
    nginx = start_nginx(
        processes, folder / "nginx", app=app, static_root=static_root, media_root=media_root
    )
    return {"app": app, "nginx": nginx, "media_root": media_root}


@pytest.fixture
def client(stack):
    nginx = stack["nginx"]
    with httpx.Client(base_url=nginx.base_url, verify=nginx.extra["tls"], timeout=30) as c:
        yield c


def app_log(stack) -> str:
    return stack["app"].extra["access_log"].read_text()


def test_healthz_through_nginx(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.get("/healthz?ready=1").json() == {"status": "ready"}


def test_django_sees_https_behind_nginx(stack, client):
    # SECURE_SSL_REDIRECT is on: a request Django took for plain http would be redirected.
    response = client.get("/swagger/")
    assert response.status_code == 200, response.headers
    # HSTS is only sent on requests Django knows are secure.
    assert response.headers["strict-transport-security"].startswith("max-age=3600")
    # The same request straight to gunicorn, without the proxy's header, is plain http.
    direct = httpx.get(stack["app"].base_url + "/swagger/", timeout=10)
    assert direct.status_code == 301
    assert direct.headers["location"].startswith("https://")
    # A client cannot claim https for itself when talking to nginx's http side.
    plain = httpx.get(
        stack["nginx"].extra["http_url"] + "/swagger/",
        headers={"X-Forwarded-Proto": "https"},
        timeout=10,
    )
    assert plain.status_code == 301
    assert plain.headers["location"].startswith("https://")


def test_sign_up_log_in_open_a_funding_with_an_image_and_fetch_it(stack, client):
    account = signup(client, "", "nginx")
    login = client.post(
        "/account/login",
        data={"email": account["user"]["email"], "password": account["password"]},
    )
    assert login.status_code == 200, login.text
    headers = bearer(login.json())

    created = client.post(
        "/funding/",
        data=funding_form("Through nginx"),
        files={"image": ("gift.png", png_bytes((64, 48)), "image/png")},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    image_path = created.json()["image"]
    assert re.fullmatch(r"/media/\S+\.png", image_path), image_path
    assert (stack["media_root"] / image_path.removeprefix("/media/")).is_file()

    # The app prefixes its base URL to the path, and sends its token everywhere.
    image = client.get(image_path, headers=headers)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (64, 48)
    assert "max-age=2592000" in image.headers["cache-control"]
    # Served from disk by nginx: gunicorn never saw the request (and SERVE_MEDIA is off).
    assert "/media/" not in app_log(stack)
    assert client.put(image_path, content=b"x", headers=headers).status_code == 403
    assert client.get("/media/no-such-image.png").status_code == 404

    detail = client.get("/funding/", params={"id": created.json()["id"]}, headers=headers)
    assert detail.status_code == 200
    assert detail.json()["image"] == image_path


def test_swagger_and_its_assets_through_nginx(stack, client):
    page = client.get("/swagger/")
    assert page.status_code == 200
    assets = referenced_assets(page.text, str(page.url))
    bundle = next(url for url in assets if "swagger-ui-bundle" in url)
    response = client.get(bundle)
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "immutable" in response.headers["cache-control"]
    for url in assets:
        assert client.get(url).status_code == 200, url
    # nginx served the static files from STATIC_ROOT itself.
    assert "/static/" not in app_log(stack)
    assert client.get("/swagger.json").json()["openapi"].startswith("3.")


def test_bodies_over_12_mb_are_refused_by_nginx_in_json(stack, client):
    token = uuid.uuid4().hex
    too_big = b"x" * (12 * 1024 * 1024 + 1)
    response = client.post(
        f"/funding/{token}",  # a path gunicorn would log, had it seen the request
        content=too_big,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["detail"].startswith("Request body too large")
    assert token not in app_log(stack), "the body reached gunicorn"


def test_an_upload_refused_before_its_body_is_read_gets_the_apps_answer(client):
    """Exactly at the limit nginx passes the body on; the app answers 401 (bad token) without
    reading it. The app refreshes its token on 401 only, so that 401 must reach it every
    time, never a 503 from nginx cut off by gunicorn halfway through sending the body
    (deploy/gunicorn.conf.py drains the unread body)."""
    body = b"x" * (12 * 1024 * 1024)
    statuses = [
        client.post(
            "/funding/",
            content=body,
            headers={
                "Content-Type": "application/octet-stream",
                "Authorization": "Bearer expired.or.forged",
            },
        ).status_code
        for _ in range(15)
    ]
    assert statuses == [401] * 15


def test_access_logs_hold_no_query_string_and_no_token(stack, client):
    account = signup(client, "", "logs")
    secret_query = f"pgtoken{uuid.uuid4().hex}"
    token = account["token"]["access_token"]
    client.get(
        f"/remit/kakaopay/approval?pg_token={secret_query}",
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": "198.51.100.7"},
    )
    client.get("/healthz")  # a later line: gunicorn has flushed the one before
    app_lines = app_log(stack)
    nginx_lines = stack["nginx"].extra["access_log"].read_text()
    for log in (app_lines, nginx_lines):
        assert "/remit/kakaopay/approval" in log
        assert secret_query not in log
        assert token not in log
        assert token.split(".")[1] not in log
    # gunicorn logs the address chain nginx passed on: what the client claimed, then nginx's
    # own view of the client.
    line = next(x for x in app_lines.splitlines() if "/remit/kakaopay/approval" in x)
    assert line.startswith("198.51.100.7, 127.0.0.1 ")


def test_a_forged_forwarded_for_does_not_escape_the_ip_limit(stack, client):
    """NUM_PROXIES=1: the client address is the one nginx appended, whatever the client says.

    The report route limits requests per account and per IP: enough accounts to stay under
    the account limit use up the IP's allowance, each request claiming another address.
    """
    per_account, per_ip = report_limits()
    accounts = [signup(client, "", f"ip{n}") for n in range(per_ip // per_account + 1)]
    report = {"type": "funding", "target": "999999", "message": "spam"}
    statuses = []
    for n in range(per_ip + 1):
        response = client.post(
            "/report/",
            json=report,
            headers={**bearer(accounts[n // per_account]), "X-Forwarded-For": f"203.0.{n}.7"},
        )
        statuses.append(response.status_code)
    assert 429 not in statuses[:per_ip], statuses
    assert statuses[per_ip] == 429
    refused = client.post(
        "/report/",
        json=report,
        headers={**bearer(accounts[-1]), "X-Forwarded-For": "192.0.2.1"},
    )
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


def test_nginx_answers_json_when_gunicorn_is_down(processes, static_root, tmp_path):
    # An upstream port that nothing listens on: what clients see while gunicorn restarts.
    dead = gunicorn("never-started", tmp_path, app_env())
    dead.base_url = f"http://127.0.0.1:{free_port()}"
    nginx = start_nginx(
        processes,
        tmp_path / "nginx",
        app=dead,
        static_root=static_root,
        media_root=tmp_path,
        ready_path="/static/no-such-file.css",
    )
    try:
        response = httpx.get(
            nginx.base_url + "/funding/public", verify=nginx.extra["tls"], timeout=10
        )
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.headers["retry-after"] == "5"
        assert response.json() == {"detail": "Service temporarily unavailable, try again."}
    finally:
        nginx.stop()

"""The production stack on loopback: Debian's nginx from deploy/nginx/funsun.conf, over TLS,
in front of gunicorn from deploy/gunicorn.conf.py, with production settings (DEBUG off,
https redirect on, secure cookies, HSTS, NUM_PROXIES=1) on a temporary SQLite database.

Everything goes through nginx as the app would: sign up, log in, open a funding with an
image, fetch the image from /media/, load /swagger/ and its assets, read /healthz.
"""

import io
import json
import re
import socket
import uuid

import httpx
import pytest
from PIL import Image

from tests.deploy.conftest import (
    DEPLOY,
    HeldUpstream,
    app_env,
    bearer,
    free_port,
    funding_form,
    gunicorn,
    migrated_sqlite,
    png_bytes,
    referenced_assets,
    replace_exactly,
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


def assert_json_error(response, status: int) -> None:
    """Whoever answered (nginx or the app), an error is JSON {"detail": ...}."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json; charset=utf-8", response.text
    assert isinstance(response.json()["detail"], str)


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
    assert_json_error(client.put(image_path, content=b"x", headers=headers), 403)
    assert_json_error(client.get("/media/no-such-image.png"), 404)

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
    assert_json_error(response, 413)
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
    # (after the time, level and logger name every log line starts with)
    assert line.split("gunicorn.access: ", 1)[-1].startswith("198.51.100.7, 127.0.0.1 "), line


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


# --- nginx's own answers: JSON, and before gunicorn's HTML ------------------------------------


def longest_accepted(send, low: int, high: int) -> int:
    """The largest size in [low, high) that nginx passes on (send(size) is not its error),
    found by bisection: the limit is a buffer's size, known only roughly from outside."""
    assert send(low), f"nginx refuses even {low} bytes"
    assert not send(high), f"nginx accepts {high} bytes"
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if send(middle) else (low, middle)
    return low


def test_a_request_line_too_long_is_refused_by_nginx_in_json(stack, client):
    def passed_on(size: int) -> bool:
        response = client.get("/funding/" + "x" * size)
        if response.status_code == 414:
            assert_json_error(response, 414)
            return False
        # The app's own answer: no such route. Never gunicorn's HTML 414.
        assert_json_error(response, 404)
        return True

    longest = longest_accepted(passed_on, 100, 8000)
    assert 3500 < longest < 4096
    assert f"/funding/{'x' * longest}" in app_log(stack)


@pytest.mark.parametrize("name", ["X-Padding", "X-Forwarded-For", "Cookie"])
def test_a_header_line_too_long_is_refused_by_nginx_in_json(client, name):
    """Also X-Forwarded-For, which nginx lengthens with the client's address on its way to
    gunicorn: the longest one nginx accepts still fits gunicorn's limit."""

    def passed_on(size: int) -> bool:
        response = client.get("/healthz", headers={name: "1" * size})
        if response.status_code == 431:
            assert_json_error(response, 431)
            return False
        assert response.status_code == 200, (response.status_code, response.text[:300])
        assert response.json() == {"status": "ok"}
        return True

    longest = longest_accepted(passed_on, 100, 9000)
    assert 3500 < longest < 4096


def test_many_headers_are_answered_by_the_app_or_refused_by_nginx_in_json(client):
    """nginx bounds the bytes of the headers, not their number: gunicorn must accept as
    many as nginx can pass on (its default of 100 answered an HTML 431)."""
    within = {f"X-N{i}": "1" for i in range(900)}  # about 10 KB
    response = client.get("/healthz", headers=within)
    assert response.status_code == 200, response.text[:300]
    too_many = {f"X-N{i}": "1" for i in range(3000)}  # about 30 KB
    assert_json_error(client.get("/healthz", headers=too_many), 431)


def raw_https(nginx, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes no HTTP library would (they validate headers); return the answer."""
    with (
        socket.create_connection(("127.0.0.1", int(nginx.base_url.rsplit(":", 1)[1]))) as raw,
        nginx.extra["tls"].wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.settimeout(30)
        tls.sendall(request)
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Thing: a\x00b\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Thing: a\rb\r\n",
        b"GET /health z HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        b"GET /healthz HTTP/1.1\r\n",  # HTTP/1.1 without Host
    ],
    ids=["nul-in-header", "cr-in-header", "space-in-path", "no-host"],
)
def test_malformed_requests_are_refused_by_nginx_in_json(stack, request_bytes):
    status, headers, body = raw_https(stack["nginx"], request_bytes + b"Connection: close\r\n\r\n")
    assert status == 400, body[:300]
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert isinstance(json.loads(body)["detail"], str)


@pytest.mark.parametrize("method", ["AB", "PROPFIND", "TRACE", "A" * 25])
def test_methods_no_route_has_are_refused_by_nginx_in_json(client, method):
    # gunicorn refuses methods under 3 or over 20 letters in HTML.
    assert_json_error(client.request(method, "/healthz"), 405)


def test_headers_gunicorn_would_refuse_in_html_never_reach_it(client):
    # gunicorn reads X-Forwarded-Ssl and X-Forwarded-Protocol too, and answers a value that
    # contradicts nginx's X-Forwarded-Proto with a 400; an unknown Expect with a 417.
    for headers in (
        {"X-Forwarded-Ssl": "off"},
        {"X-Forwarded-Protocol": "plain"},
        {"Expect": "something-else"},
    ):
        response = client.get("/healthz", headers=headers)
        assert response.status_code == 200, (headers, response.status_code, response.text[:300])


def test_plain_http_to_the_https_port_and_missing_files_are_json(stack, client):
    nginx = stack["nginx"]
    assert_json_error(httpx.get(nginx.base_url.replace("https:", "http:") + "/healthz"), 400)
    assert_json_error(client.get("/static/no-such-file.css"), 404)
    # The plain-http server (it only redirects) answers its errors in JSON as well.
    assert_json_error(httpx.get(nginx.extra["http_url"] + "/" + "x" * 5000), 414)


def test_nginx_answers_a_json_504_when_gunicorn_is_too_slow(processes, static_root, tmp_path):
    """The upstream holds the request until the test releases it: nginx's read time-out
    (1 s in this copy of the site, 35 s in production) always passes first."""
    held = HeldUpstream()
    try:
        nginx = start_nginx(
            processes,
            tmp_path / "nginx",
            app=held.service,
            static_root=static_root,
            media_root=tmp_path,
            ready_path="/static/no-such-file.css",
            replacements=(("proxy_read_timeout 35s;", "proxy_read_timeout 1s;"),),
        )
        response = httpx.get(nginx.base_url + "/healthz", verify=nginx.extra["tls"], timeout=60)
        assert held.arrived.is_set(), "nginx answered without asking the upstream"
        assert_json_error(response, 504)
        assert "may have been carried out" in response.json()["detail"]
        assert "retry-after" not in response.headers
        held.release()
        nginx.stop()
    finally:
        held.stop()


def test_nginx_answers_json_when_gunicorn_hangs_up(processes, static_root, tmp_path):
    """A worker killed mid-request (gunicorn's own time-out, a crash): the connection closes
    without an answer. nginx's 502 becomes the JSON 503 the app retries."""
    upstream = HeldUpstream(hang_up=True)
    try:
        nginx = start_nginx(
            processes,
            tmp_path / "nginx",
            app=upstream.service,
            static_root=static_root,
            media_root=tmp_path,
            ready_path="/static/no-such-file.css",
        )
        response = httpx.get(nginx.base_url + "/healthz", verify=nginx.extra["tls"], timeout=60)
        assert upstream.arrived.is_set()
        assert_json_error(response, 503)
        assert response.headers["retry-after"] == "5"
        nginx.stop()
    finally:
        upstream.stop()


def test_images_from_a_bucket_that_is_down_are_json(processes, static_root, tmp_path):
    """deploy/nginx/media-s3.conf in place of the disk's /media/, its bucket unreachable."""
    dead = HeldUpstream(hang_up=True)
    media_block = replace_exactly(
        (DEPLOY / "nginx" / "media-s3.conf").read_text(),
        "https://s3.example.com/funsun-media/",
        f"http://127.0.0.1:{free_port()}/funsun-media/",
        "deploy/nginx/media-s3.conf",
    )
    try:
        nginx = start_nginx(
            processes,
            tmp_path / "nginx",
            app=dead.service,
            static_root=static_root,
            media_root=tmp_path,
            media_block=media_block,
            ready_path="/static/no-such-file.css",
        )
        with httpx.Client(base_url=nginx.base_url, verify=nginx.extra["tls"], timeout=60) as c:
            down = c.get("/media/funding/gift.png")
            assert_json_error(down, 503)
            assert down.headers["retry-after"] == "5"
            assert_json_error(c.put("/media/funding/gift.png", content=b"x"), 404)
        nginx.stop()
    finally:
        dead.stop()


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

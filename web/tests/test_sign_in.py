"""Sign-in with Kakao on the web, against a local server speaking Kakao's OAuth 2."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client

from accounts.models import Account
from accounts.tests.kakao_oauth_server import KakaoOAuthServer, configure
from accounts.tests.kakao_server import KAKAO_ID
from tests.factories import FundingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kakao_oauth(settings, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = KakaoOAuthServer(client_secret="test-client-secret").start()
    configure(settings, server)
    settings.PUBLIC_BASE_URL = "http://testserver"
    yield server
    server.stop()


def follow_kakao(client: Client, location: str):
    """The browser's visit to Kakao: real HTTP to the local server, which redirects back."""
    answer = httpx.get(location, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.path == "/web/login/kakao/callback"
    return client.get(back.path, parse_qs(back.query))


def test_sign_in_signs_into_the_apps_kakao_account(kakao_oauth):
    funding = FundingFactory()
    client = Client()
    start = client.get("/web/login/kakao", {"next": f"/f/{funding.pk}/"})
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    query = parse_qs(authorize.query)
    assert f"{authorize.scheme}://{authorize.netloc}" == kakao_oauth.base_url
    assert authorize.path == "/oauth/authorize"
    assert query["client_id"] == ["test-rest-api-key"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://testserver/web/login/kakao/callback"]
    assert query["state"][0]

    back = follow_kakao(client, start["Location"])
    assert back.status_code == 302
    assert back["Location"] == f"/f/{funding.pk}/"
    account = Account.objects.get(pk=str(KAKAO_ID))  # the same account the app signs in
    assert client.session["_auth_user_id"] == str(account.pk)
    token_call = next(r for r in kakao_oauth.requests if r["path"] == "/oauth/token")
    assert token_call["form"]["client_secret"] == "test-client-secret"
    assert token_call["form"]["grant_type"] == "authorization_code"
    page = client.get(f"/f/{funding.pk}/").content.decode()
    assert account.username in page and "로그아웃" in page

    # The session does not sign in to the API: only its JWTs do.
    assert client.get("/account/").status_code == 401


def test_a_callback_with_another_state_is_refused(kakao_oauth):
    victim = Client()
    start = victim.get("/web/login/kakao")
    code = parse_qs(urlsplit(_kakao_redirect(start["Location"])).query)["code"][0]
    forged = victim.get("/web/login/kakao/callback", {"code": code, "state": "not-the-state"})
    assert forged.status_code == 400
    assert "_auth_user_id" not in victim.session
    # A browser that never started a sign-in cannot finish one either.
    stranger = Client()
    response = stranger.get("/web/login/kakao/callback", {"code": code, "state": "x"})
    assert response.status_code == 400
    assert "_auth_user_id" not in stranger.session
    assert not any(r["path"] == "/oauth/token" for r in kakao_oauth.requests)


def _kakao_redirect(location: str) -> str:
    return httpx.get(location, follow_redirects=False).headers["location"]


def test_declined_or_refused_sign_in_signs_in_nobody(kakao_oauth):
    kakao_oauth.deny = True
    client = Client()
    back = follow_kakao(client, client.get("/web/login/kakao")["Location"])
    assert back.status_code == 400
    assert "_auth_user_id" not in client.session

    kakao_oauth.deny = False
    kakao_oauth.user_token = "unknown-token"  # Kakao's /v2/user/me refuses it
    back = follow_kakao(client, client.get("/web/login/kakao")["Location"])
    assert back.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_wrong_client_secret_is_refused(kakao_oauth, settings):
    settings.KAKAO_CLIENT_SECRET = "wrong"
    client = Client()
    back = follow_kakao(client, client.get("/web/login/kakao")["Location"])
    assert back.status_code == 400
    assert "_auth_user_id" not in client.session


def test_next_never_leaves_the_site(kakao_oauth):
    client = Client()
    start = client.get("/web/login/kakao", {"next": "https://evil.example/"})
    back = follow_kakao(client, start["Location"])
    assert back["Location"] == "/"


def test_sign_out_needs_a_post_with_csrf(kakao_oauth):
    client = Client(enforce_csrf_checks=True)
    follow_kakao(client, client.get("/web/login/kakao")["Location"])
    assert "_auth_user_id" in client.session
    assert client.get("/web/logout").status_code == 405
    assert client.post("/web/logout").status_code == 403  # no CSRF token
    funding = FundingFactory()
    client.get(f"/f/{funding.pk}/")  # the page's sign-out form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/web/logout", {"csrfmiddlewaretoken": token, "next": f"/f/{funding.pk}/"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_sign_in_is_rate_limited_like_the_api(kakao_oauth, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "kakaologin_ip": "2/minute",
        },
    }
    client = Client()
    assert client.get("/web/login/kakao").status_code == 302
    assert client.get("/web/login/kakao").status_code == 302
    assert client.get("/web/login/kakao").status_code == 429

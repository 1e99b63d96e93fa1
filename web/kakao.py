"""Sign-in with Kakao on the web: OAuth 2's authorization code flow (Kakao Login, REST API).

1. /web/login/kakao sends the browser to `{KAKAO_AUTH_BASE_URL}/oauth/authorize` with a
   random `state` kept in the session;
2. Kakao sends it back to /web/login/kakao/callback with `code` and that `state`;
3. the server trades the code for an access token (`POST /oauth/token`), asks Kakao who owns
   it (accounts.kakao, `GET /v2/user/me`) and signs in the account the app uses for that
   Kakao user (accounts.services.kakao_login).

The access token is used once and never stored or logged; the web session is Django's
session cookie, separate from the API's JWTs.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode

import httpx
from django.conf import settings

from accounts.kakao import KakaoLoginFailed
from accounts.models import Account
from accounts.services import kakao_login

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"
CALLBACK_PATH = "/web/login/kakao/callback"
STATE_KEY = "web_kakao_state"
NEXT_KEY = "web_kakao_next"


def redirect_uri() -> str:
    return f"{settings.PUBLIC_BASE_URL}{CALLBACK_PATH}"


def is_configured() -> bool:
    return bool(settings.KAKAO_REST_API_KEY)


def authorize_url(session, next_path: str) -> str:
    """Where the browser goes to sign in; the state it must bring back is kept in `session`."""
    state = secrets.token_urlsafe(24)
    session[STATE_KEY] = state
    session[NEXT_KEY] = next_path
    query = urlencode(
        {
            "client_id": settings.KAKAO_REST_API_KEY,
            "redirect_uri": redirect_uri(),
            "response_type": "code",
            "state": state,
        }
    )
    return f"{settings.KAKAO_AUTH_BASE_URL}{AUTHORIZE_PATH}?{query}"


def take_state(session, state: str) -> str | None:
    """The page to return to when `state` is the one this session was given (used once);
    None otherwise: a callback this browser did not start is refused."""
    expected = session.pop(STATE_KEY, None)
    next_path = session.pop(NEXT_KEY, None)
    if not expected or not isinstance(state, str) or not secrets.compare_digest(expected, state):
        return None
    return next_path or "/"


def exchange_code(code: str) -> str:
    """Kakao's access token for an authorization code. KakaoLoginFailed on any failure."""
    body = {
        "grant_type": "authorization_code",
        "client_id": settings.KAKAO_REST_API_KEY,
        "redirect_uri": redirect_uri(),
        "code": code,
    }
    if settings.KAKAO_CLIENT_SECRET:
        body["client_secret"] = settings.KAKAO_CLIENT_SECRET
    try:
        response = httpx.post(
            f"{settings.KAKAO_AUTH_BASE_URL}{TOKEN_PATH}",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            timeout=settings.KAKAO_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        logger.warning("kakao web sign-in: %s failed (%s)", TOKEN_PATH, type(exc).__name__)
        raise KakaoLoginFailed("Kakao could not be reached; try again.") from exc
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200 or not isinstance(data, dict):
        code_name = data.get("error_code") if isinstance(data, dict) else None
        logger.warning("kakao web sign-in: token HTTP %s, code %s", response.status_code, code_name)
        raise KakaoLoginFailed("Kakao refused the sign-in; try again.")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise KakaoLoginFailed("Kakao's answer held no access token.")
    return token


def sign_in_with_code(code: str) -> Account:
    """The account of the Kakao user who authorized `code` (created on the first sign-in,
    exactly as the app's POST /account/kakaologin does)."""
    account, _created = kakao_login(access_token=exchange_code(code))
    return account

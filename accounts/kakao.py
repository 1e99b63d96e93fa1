"""Kakao Login client: who is the Kakao user behind an access token the app sends us.

`GET {KAKAO_API_BASE_URL}/v2/user/me` with `Authorization: Bearer <token>` (docs/KAKAO.md).
Every failure of Kakao (refused token, error status, garbage, silence) becomes a
`KakaoLoginFailed` (400 with a detail): the app shows it and the user retries; we never
answer 500 and never create anything from a half-understood answer.
"""

import datetime
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from funsun.api.errors import InvalidInput

logger = logging.getLogger(__name__)

USER_ME_PATH = "/v2/user/me"
NICKNAME_MAX = 20
FALLBACK_NICKNAME = "kakao user"
# Kakao's access tokens are short printable strings; anything else never reaches Kakao.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9._~+/=-]{1,2048}$")


class KakaoLoginFailed(InvalidInput):
    default_detail = "Kakao login failed."


@dataclass(frozen=True)
class KakaoUser:
    """The parts of a Kakao user we keep; every field but `id` may be missing."""

    id: str
    nickname: str
    email: str | None = None
    gender: str | None = None
    age_range: str | None = None
    birthday: str | None = None
    # Kakao says whether the birthday is on the solar or the lunar calendar.
    birthday_type: str = "solar"


def fetch_kakao_user(access_token: str) -> KakaoUser:
    """Ask Kakao who owns `access_token`. Raises KakaoLoginFailed (400) on any failure."""
    if not isinstance(access_token, str) or not _TOKEN_RE.match(access_token):
        raise KakaoLoginFailed("accessToken: not a Kakao access token.")
    url = settings.KAKAO_API_BASE_URL.rstrip("/") + USER_ME_PATH
    try:
        response = httpx.get(
            url,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.KAKAO_TIMEOUT_SECONDS,
        )
    except httpx.TimeoutException as exc:
        logger.warning("kakao login: %s timed out", USER_ME_PATH)
        raise KakaoLoginFailed("Kakao did not answer in time; try again.") from exc
    except httpx.HTTPError as exc:
        logger.warning("kakao login: %s unreachable (%s)", USER_ME_PATH, type(exc).__name__)
        raise KakaoLoginFailed("Kakao could not be reached; try again.") from exc

    if response.status_code != 200:
        kakao_code = _error_code(response)
        logger.warning("kakao login: HTTP %s, code %s", response.status_code, kakao_code)
        if response.status_code == 401:
            raise KakaoLoginFailed("Kakao rejected the access token (invalid or expired).")
        if response.status_code < 500:
            raise KakaoLoginFailed(
                f"Kakao refused the request (HTTP {response.status_code}, code {kakao_code})."
            )
        raise KakaoLoginFailed("Kakao login is unavailable right now; try again.")

    try:
        # json keeps integers exact (no float detour), so a 19-digit id survives intact.
        data = json.loads(response.content)
    except ValueError as exc:
        logger.warning("kakao login: malformed JSON from %s", USER_ME_PATH)
        raise KakaoLoginFailed("Kakao answered with malformed data.") from exc
    return parse_kakao_user(data)


def _error_code(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def parse_kakao_user(data: Any) -> KakaoUser:
    """Read Kakao's `/v2/user/me` answer defensively: only `id` is required."""
    if not isinstance(data, dict):
        raise KakaoLoginFailed("Kakao answered without a user.")
    kakao_id = data.get("id")
    # bool is an int subclass; a float id would already have lost digits.
    if not isinstance(kakao_id, int) or isinstance(kakao_id, bool) or kakao_id <= 0:
        raise KakaoLoginFailed("Kakao answered without a user id.")
    account = _dict(data.get("kakao_account"))
    profile = _dict(account.get("profile"))
    properties = _dict(data.get("properties"))
    nickname = _text(profile.get("nickname")) or _text(properties.get("nickname"))
    return KakaoUser(
        id=str(kakao_id),
        nickname=(nickname or FALLBACK_NICKNAME)[:NICKNAME_MAX],
        email=_email(account),
        gender=_short(account.get("gender")),
        age_range=_short(account.get("age_range")),
        birthday=_birthday(account.get("birthday")),
        birthday_type="lunar" if account.get("birthday_type") == "LUNAR" else "solar",
    )


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _short(value: Any, limit: int = 20) -> str | None:
    text = _text(value)
    return text[:limit] if text else None


def _email(account: dict) -> str | None:
    # Kakao flags addresses it does not vouch for; only a valid, verified one is kept.
    if account.get("is_email_valid") is False or account.get("is_email_verified") is False:
        return None
    email = _text(account.get("email")).lower()
    if not email or len(email) > 254:
        return None
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def _birthday(value: Any) -> str | None:
    text = _text(value)
    return text if is_valid_mmdd(text) else None


def is_valid_mmdd(value: str) -> bool:
    """`MMDD` naming a real day of some year (Feb 29 included: 2000 was a leap year)."""
    if len(value) != 4 or not value.isascii() or not value.isdigit():
        return False
    try:
        datetime.date(2000, int(value[:2]), int(value[2:]))
    except ValueError:
        return False
    return True

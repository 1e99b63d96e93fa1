"""Token attacks: every forged, stale or revoked token is a 401 with `{"detail": ...}`.

The app refreshes and retries on 401 (and on nothing else), so each of these must be a 401,
on routes that require a token and on routes where a token is optional alike: a bad token
sent to an optional route is an error, not an anonymous call.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import services
from accounts.models import Account
from funsun.api.exceptions import BAD_TOKEN, UNAUTHENTICATED
from tests.factories import AccountFactory, FundingFactory

# (method, path, body) of routes that need a token, and of one where it is optional.
ROUTES = [
    ("get", "/account/?id={me}", None),
    ("post", "/account/", None),
    ("put", "/account/", {"username": "attacker"}),
    ("post", "/follow/", {"id": "{other}"}),
    ("post", "/remit/kakaopay/ready", {"amount": "1000"}),
    ("get", "/funding/public", None),  # optional token
    ("get", "/remit/?id={funding}", None),  # optional token
]


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def payload_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def expired_access(account: Account) -> str:
    token = AccessToken.for_user(account)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def refresh_as_access(account: Account) -> str:
    return str(RefreshToken.for_user(account))


def signed_with_another_key(account: Account) -> str:
    payload = payload_of(str(AccessToken.for_user(account)))
    return jwt.encode(payload, "another-key-" + "x" * 40, algorithm="HS256")


def alg_none(account: Account) -> str:
    payload = payload_of(str(AccessToken.for_user(account)))
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def alg_none_keeping_the_signature(account: Account) -> str:
    _header, payload, signature = str(AccessToken.for_user(account)).split(".")
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}"


def other_account_in_a_signed_token(account: Account) -> str:
    """The payload edited to name another account, the original signature kept."""
    other = AccountFactory()
    token = str(AccessToken.for_user(account))
    header, _payload, signature = token.split(".")
    claims = payload_of(token)
    claims["user_id"] = other.pk
    return f"{header}.{b64(claims)}.{signature}"


def of_a_deleted_account(account: Account) -> str:
    gone = AccountFactory()
    token = str(AccessToken.for_user(gone))
    Account.objects.filter(pk=gone.pk).delete()  # the row is gone
    return token


def of_a_deactivated_account(account: Account) -> str:
    token = str(AccessToken.for_user(account))
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").delete("/account/")
    assert response.status_code == 200
    return token


def garbage(account: Account) -> str:
    return "not.a.token"


ATTACKS = [
    expired_access,
    refresh_as_access,
    signed_with_another_key,
    alg_none,
    alg_none_keeping_the_signature,
    other_account_in_a_signed_token,
    of_a_deleted_account,
    of_a_deactivated_account,
    garbage,
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.__name__ for attack in ATTACKS])
def test_forged_or_stale_access_tokens_are_401_everywhere(db, attack):
    me = AccountFactory(username="victim")
    other = AccountFactory()
    funding = FundingFactory()
    token = attack(me)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    deactivated = attack is of_a_deactivated_account
    expected = UNAUTHENTICATED["user_inactive"] if deactivated else BAD_TOKEN
    for method, path, body in ROUTES:
        names = {"me": me.pk, "other": other.pk, "funding": funding.pk}
        path = path.format(**names)
        data = {k: v.format(**names) for k, v in body.items()} if body else None
        response = getattr(client, method)(path, data)
        assert response.status_code == 401, (method, path, response.content)
        # Our words alone: no `code`, no `messages` listing token classes and claims.
        assert response.json() == {"detail": expected}, (method, path)
        assert response["WWW-Authenticate"].startswith("Bearer")
    # Nothing was done in anyone's name.
    assert Account.objects.get(pk=me.pk).username in ("victim", "탈퇴한 사용자")


def test_a_valid_token_passes_the_same_routes(db):
    """The control: the routes above answer something else than 401 to a real token."""
    me = AccountFactory()
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(me)}")
    assert client.get(f"/account/?id={me.pk}").status_code == 200
    assert client.get("/funding/public").status_code == 204


def test_a_token_that_worked_stops_when_its_account_is_deactivated(db):
    me = AccountFactory()
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(me)}")
    # Answered: the account is now in the accounts' cache.
    assert client.get(f"/account/?id={me.pk}").status_code == 200
    services.deactivate_account(account=me)
    response = client.get(f"/account/?id={me.pk}")
    assert response.status_code == 401
    assert response.json() == {"detail": UNAUTHENTICATED["user_inactive"]}


def refresh(token: str):
    return APIClient().post("/account/token/refresh", {"refresh": token})


def assert_401(response) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str), body


def test_no_token_where_one_is_required_is_401_in_our_words(db):
    response = APIClient().get("/account/")
    assert response.status_code == 401
    assert response.json() == {"detail": UNAUTHENTICATED["not_authenticated"]}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_refresh_token_is_401(db):
    account = AccountFactory()
    token = str(RefreshToken.for_user(account))
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(account)}")
    assert client.post("/account/logout", {"refresh": token}).status_code == 200
    assert_401(refresh(token))


def test_a_rotated_refresh_token_cannot_be_used_twice(db):
    account = AccountFactory()
    token = str(RefreshToken.for_user(account))
    first = refresh(token)
    assert first.status_code == 200
    assert_401(refresh(token))
    # The new one works once.
    assert refresh(first.json()["refresh_token"]).status_code == 200


def test_refresh_tokens_of_a_deactivated_account_are_401(db):
    account = AccountFactory()
    token = str(RefreshToken.for_user(account))
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(account)}")
    assert client.delete("/account/").status_code == 200
    assert_401(refresh(token))


def test_refresh_token_of_a_deleted_account_is_401(db):
    account = AccountFactory()
    token = str(RefreshToken.for_user(account))
    Account.objects.filter(pk=account.pk).delete()
    assert_401(refresh(token))


@pytest.mark.parametrize(
    "forge",
    [
        lambda account: str(AccessToken.for_user(account)),  # an access token
        lambda account: jwt.encode(
            payload_of(str(RefreshToken.for_user(account))), "x" * 50, algorithm="HS256"
        ),
        lambda account: (
            f"{b64({'alg': 'none'})}.{b64(payload_of(str(RefreshToken.for_user(account))))}."
        ),
        lambda account: _expired_refresh(account),
    ],
    ids=["access-as-refresh", "another-key", "alg-none", "expired"],
)
def test_forged_refresh_tokens_are_401(db, forge):
    assert_401(refresh(forge(AccountFactory())))


def _expired_refresh(account: Account) -> str:
    token = RefreshToken.for_user(account)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def test_the_signing_key_is_the_secret_key_and_no_other_algorithm_is_accepted():
    """What the attacks above rely on: one symmetric algorithm, one key from the environment."""
    assert settings.SIMPLE_JWT["ALGORITHM"] == "HS256"
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == settings.SECRET_KEY

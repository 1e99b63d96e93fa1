"""Local accounts and tokens: signup, login, token refresh and logout, through HTTP."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Account
from tests.factories import DEFAULT_PASSWORD, AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db
STRONG = "violet-harbor-1987!"


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def sign_up(api, fmt=None, **fields):
    data = {"email": "New.User@Example.com", "password": STRONG, "username": "새 사용자"}
    data.update(fields)
    return api.post("/account/signup", data, format=fmt)


# --- signup -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [None, "json"])
def test_signup_creates_a_local_account_and_signs_it_in(api, fmt):
    response = sign_up(api, fmt)

    assert response.status_code == 201
    body = response.json()
    user = body["user"]
    assert user["email"] == "new.user@example.com"
    assert user["username"] == "새 사용자"
    assert user["id"].startswith("u") and not user["id"].isdigit()
    account = Account.objects.get(pk=user["id"])
    assert account.check_password(STRONG)
    assert account.password != STRONG
    me = bearer(body["token"]["access_token"]).post("/account/")
    assert me.status_code == 200 and me.json()["id"] == user["id"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "This password is too short. It must contain at least 8 characters."),
        ("12345678901", "This password is entirely numeric."),
        ("password", "This password is too common."),
        ("new.user@example", "The password is too similar to the email."),
    ],
)
def test_signup_refuses_weak_passwords_with_the_validators_messages(api, password, message):
    response = sign_up(api, password=password)

    assert response.status_code == 400
    body = response.json()
    assert message in body["password"]
    assert body["detail"].startswith("password: ")
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"username": ""}, "username"),
        ({"username": "가" * 21}, "username"),
        ({"password": ""}, "password"),
    ],
)
def test_signup_refuses_bad_fields(api, fields, field):
    response = sign_up(api, **fields)

    assert response.status_code == 400
    assert field in response.json()
    assert not Account.objects.exists()


@pytest.mark.parametrize("email", ["new.user@example.com", "NEW.USER@EXAMPLE.COM"])
def test_signup_with_a_taken_email_is_a_conflict(api, email):
    AccountFactory(email="new.user@example.com")

    response = sign_up(api, email=email)

    assert response.status_code == 409
    assert response.json() == {"detail": "An account with this email already exists."}
    assert Account.objects.count() == 1


# --- login --------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["user@example.com", "USER@Example.COM"])
def test_login_with_email_and_password(api, email):
    account = AccountFactory(email="user@example.com")

    response = api.post("/account/login", {"email": email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == account.pk
    assert body["user"]["email"] == "user@example.com"
    assert bearer(body["token"]["access_token"]).post("/account/").status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "user@example.com", "password": "wrong password"},
        {"email": "nobody@example.com", "password": DEFAULT_PASSWORD},
    ],
)
def test_login_with_wrong_credentials_is_401(api, credentials):
    AccountFactory(email="user@example.com")

    response = api.post("/account/login", credentials)

    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong email or password."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_kakao_account_has_no_password_to_log_in_with(api):
    account = AccountFactory(email="kakao@example.com")
    account.set_unusable_password()
    account.save()

    response = api.post("/account/login", {"email": "kakao@example.com", "password": "x"})

    assert response.status_code == 401


def test_login_of_a_suspended_account_is_403(api):
    account = AccountFactory(email="user@example.com")
    account.is_active = False  # an operator unticked "active" in the admin
    account.save()

    response = api.post(
        "/account/login", {"email": "user@example.com", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "This account has been deactivated."}


def test_login_without_password_is_400(api):
    response = api.post("/account/login", {"email": "user@example.com"})
    assert response.status_code == 400
    assert "password" in response.json()


# --- refresh ------------------------------------------------------------------------------


def tokens_of(account) -> dict:
    refresh = RefreshToken.for_user(account)
    return {"access_token": str(refresh.access_token), "refresh_token": str(refresh)}


@pytest.mark.parametrize("fmt", [None, "json"])
def test_refresh_gives_new_tokens_and_uses_the_old_refresh_token_up(api, account, fmt):
    old = tokens_of(account)

    response = api.post("/account/token/refresh", {"refresh": old["refresh_token"]}, format=fmt)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token"}
    assert body["refresh_token"] != old["refresh_token"]
    assert bearer(body["access_token"]).post("/account/").json()["id"] == account.pk
    # Rotation: the old refresh token is now blacklisted, the new one works.
    replay = api.post("/account/token/refresh", {"refresh": old["refresh_token"]})
    assert replay.status_code == 401
    assert replay["WWW-Authenticate"].startswith("Bearer")
    again = api.post("/account/token/refresh", {"refresh": body["refresh_token"]})
    assert again.status_code == 200


def test_refresh_without_rotation_answers_the_access_token_only(api, account, settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ROTATE_REFRESH_TOKENS": False}
    refresh = tokens_of(account)["refresh_token"]

    response = api.post("/account/token/refresh", {"refresh": refresh})

    assert response.status_code == 200
    assert set(response.json()) == {"access_token"}


def expired_refresh(account) -> str:
    token = RefreshToken.for_user(account)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


@pytest.mark.parametrize(
    "make",
    [
        lambda account: "garbage",
        lambda account: expired_refresh(account),
        lambda account: tokens_of(account)["access_token"],  # an access token is no refresh
        lambda account: tokens_of(account)["refresh_token"][:-3] + "abc",  # bad signature
    ],
    ids=["garbage", "expired", "access-token", "bad-signature"],
)
def test_refresh_with_an_unusable_token_is_401(api, account, make):
    response = api.post("/account/token/refresh", {"refresh": make(account)})

    assert response.status_code == 401
    assert response.json() == {"detail": "Refresh token is invalid, expired or revoked."}


def test_refresh_of_an_inactive_account_is_401(api, account):
    refresh = tokens_of(account)["refresh_token"]
    account.is_active = False
    account.save()

    response = api.post("/account/token/refresh", {"refresh": refresh})

    assert response.status_code == 401


def test_refresh_without_a_token_is_400(api):
    response = api.post("/account/token/refresh", {})
    assert response.status_code == 400
    assert "refresh" in response.json()


# --- logout -------------------------------------------------------------------------------


def test_logout_revokes_the_refresh_token(account):
    tokens = tokens_of(account)
    client = bearer(tokens["access_token"])

    response = client.post("/account/logout", {"refresh": tokens["refresh_token"]})

    assert response.status_code == 200
    refresh = APIClient().post("/account/token/refresh", {"refresh": tokens["refresh_token"]})
    assert refresh.status_code == 401
    # Logging out twice is harmless.
    assert client.post("/account/logout", {"refresh": tokens["refresh_token"]}).status_code == 200


def test_logout_with_another_accounts_refresh_token_is_400(account):
    other = AccountFactory()
    others = tokens_of(other)["refresh_token"]

    response = client_for(account).post("/account/logout", {"refresh": others})

    assert response.status_code == 400
    assert response.json() == {"detail": "refresh: this refresh token belongs to another account."}
    # The other account's token still works.
    assert APIClient().post("/account/token/refresh", {"refresh": others}).status_code == 200


@pytest.mark.parametrize("data", [{}, {"refresh": "garbage"}])
def test_logout_with_no_or_a_bad_token_is_400(auth_api, data):
    assert auth_api.post("/account/logout", data).status_code == 400


def test_logout_needs_authentication(api, account):
    response = api.post("/account/logout", {"refresh": tokens_of(account)["refresh_token"]})
    assert response.status_code == 401


def test_sign_in_routes_are_rate_limited_per_address_when_a_rate_is_set(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login_ip": "3/minute"},
    }
    AccountFactory(email="user@example.com")
    wrong = {"email": "user@example.com", "password": "guess"}

    statuses = [api.post("/account/login", wrong).status_code for _ in range(3)]
    refused = api.post("/account/login", {**wrong, "password": DEFAULT_PASSWORD})

    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert "detail" in refused.json()
    assert int(refused["Retry-After"]) >= 1
    # Each sign-in route has its own scope and budget (no refresh rate is set here).
    assert api.post("/account/token/refresh", {"refresh": "x"}).status_code == 401

"""Errors are JSON {"detail": ...} in UTF-8 with the status codes docs/API.md names."""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db
JSON_UTF8 = "application/json; charset=utf-8"


def assert_json_error(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == JSON_UTF8
    assert isinstance(response.json()["detail"], str)


def test_unknown_route_answers_json(api):
    response = api.get("/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert response["Content-Type"] == JSON_UTF8


@pytest.mark.parametrize("path", ["/account/token", "/account", "/follow", "/account/login/"])
def test_routes_that_must_not_exist_are_404(api, auth_api, path):
    # /account/token handed out an admin token in the original server; it is gone.
    for client in (api, auth_api):
        for method in ("get", "post"):
            assert_json_error(getattr(client, method)(path), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/account/kakaologin"),
        ("get", "/account/signup"),
        ("put", "/account/login"),
        ("get", "/account/token/refresh"),
        ("patch", "/account/"),
        ("post", "/account/search"),
        ("put", "/follow/"),
        ("get", "/account/logout"),
    ],
)
def test_wrong_methods_are_405_json(auth_api, method, path):
    response = getattr(auth_api, method)(path)

    assert_json_error(response, 405)
    assert response.json()["detail"] == f'Method "{method.upper()}" not allowed.'


def expired_access(account) -> str:
    token = AccessToken.for_user(account)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer not-a-jwt",
        "Bearer",
        "Token abc",
        "expired",
        "refresh-token",
        "deactivated",
    ],
)
def test_bad_authentication_is_401_with_www_authenticate(api, header):
    account = AccountFactory()
    if header == "expired":
        header = f"Bearer {expired_access(account)}"
    elif header == "refresh-token":
        from rest_framework_simplejwt.tokens import RefreshToken

        header = f"Bearer {RefreshToken.for_user(account)}"
    elif header == "deactivated":
        client_for(account).delete("/account/")
        header = f"Bearer {AccessToken.for_user(account)}"
    if header:
        api.credentials(HTTP_AUTHORIZATION=header)

    for response in (api.post("/account/"), api.get("/follow/", {"follower": account.pk})):
        assert_json_error(response, 401)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_body_over_12_mb_is_413_json(auth_api):
    big = b"x" * (12 * 1024 * 1024 + 1)

    response = auth_api.generic("PUT", "/account/", big, content_type="application/octet-stream")

    assert_json_error(response, 413)


def test_korean_in_errors_arrives_as_utf8(auth_api):
    response = auth_api.put("/account/", {"bank_account": "잘못된"}, format="multipart")

    assert_json_error(response, 400)
    assert "국민 123-456-789" in response.content.decode("utf-8")
    assert response.json()["bank_account"] == [
        'Bank account must be "<bank> <digits and dashes>", e.g. "국민 123-456-789".'
    ]

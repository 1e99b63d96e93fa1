"""Bytes no route can use: deeply nested JSON, NUL, unpaired surrogates.

- JSON nested a thousand levels (2 KB) exhausted the decoder's stack: a 500 on every route
  that reads JSON, the sign-in routes included (no token needed).
- NUL in a path segment, a query parameter, a form or a JSON string reached the
  database: PostgreSQL cannot store it (a DataError, answered 503 "try again"); SQLite
  answered 404 HTML (the checkout page) or 401.
- An unpaired surrogate in a JSON string (`"\\ud800"`) cannot be encoded for the database,
  nor hashed by the sign-in limit: a 500.

Every case answers 400 `{"detail": ...}` and changes nothing, on SQLite and PostgreSQL
alike (funsun/api/parsers.py, funsun.middleware.UnstorableTextMiddleware).
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from accounts.models import Account
from fundings.models import Funding
from reports.models import Report
from tests.factories import AccountFactory, FundingFactory, image_bytes
from tests.helpers import client_for

DEEP = "[" * 1000 + "]" * 1000  # about 2 KB


def nested(levels: int) -> str:
    """`{"email": {"email": ... 1 ...}}`, `levels` objects deep."""
    return '{"email": ' * levels + "1" + "}" * levels


def assert_refused(response) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)


@pytest.fixture
def signed_in(db):
    return client_for(AccountFactory())


def counts() -> tuple[int, int, int]:
    return Account.objects.count(), Funding.objects.count(), Report.objects.count()


# --- deeply nested JSON ---------------------------------------------------------------------


JSON_ROUTES = [
    ("post", "/account/login", False),
    ("post", "/account/signup", False),
    ("post", "/account/kakaologin", False),
    ("post", "/account/token/refresh", False),
    ("post", "/account/logout", True),
    ("post", "/follow/", True),
    ("put", "/funding/", True),
    ("post", "/remit/", True),
    ("post", "/remit/kakaopay/ready", True),
    ("post", "/report/", True),
]


@pytest.mark.parametrize(("method", "path", "needs_token"), JSON_ROUTES)
@pytest.mark.parametrize("body", [DEEP, nested(1000)], ids=["arrays", "objects"])
def test_deeply_nested_json_is_a_400_on_every_route(signed_in, method, path, needs_token, body):
    client = signed_in if needs_token else APIClient()
    before = counts()
    response = getattr(client, method)(path, body, content_type="application/json")
    assert_refused(response)
    assert "nested" in response.json()["detail"]
    assert counts() == before


def test_nesting_is_bounded_well_below_the_stack(db):
    api = APIClient()
    assert_refused(api.post("/account/login", nested(33), content_type="application/json"))
    # Within the bound the body is an ordinary bad sign-in: a string is expected.
    response = api.post("/account/login", nested(32), content_type="application/json")
    assert response.status_code == 400
    assert "nested" not in response.json()["detail"]


def test_json_with_brackets_in_strings_is_read_as_usual(db):
    AccountFactory(email="brackets@example.com", password="[[[[{{{{" * 8)
    body = json.dumps({"email": "brackets@example.com", "password": "[[[[{{{{" * 8})
    response = APIClient().post("/account/login", body, content_type="application/json")
    assert response.status_code == 200, response.content


# --- NUL and unpaired surrogates --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        # The sandbox checkout page looks its payment up by the path's id.
        ("get", "/payments/sandbox/checkout/T12%0034"),
        ("post", "/payments/sandbox/checkout/T12%0034"),
        ("get", "/remit/kakaopay/approval?pg_token=ab%00cd"),
        ("get", "/account/?id=ab%00cd"),
        ("get", "/account/search?username=kim%00"),
        ("get", "/funding/?id=1%00"),
        ("get", "/funding/user?id=%00"),
        ("get", "/follow/?follower=%00&followee=x"),
        ("get", "/remit/?id=1%00"),
        ("get", "/funding/public?page=%00"),
        ("get", "/funding/public?%00=1"),
        ("get", "/healthz?ready=%00"),
    ],
)
def test_nul_in_the_path_or_the_query_string_is_a_400(signed_in, sandbox, method, path):
    assert_refused(getattr(signed_in, method)(path))


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ({"HTTP_AUTHORIZATION": "Bearer abc\x00def"}, 401),
        # The sign-in limit keys a cache entry on the forwarded address behind a proxy.
        ({"HTTP_X_FORWARDED_FOR": "203.0.113.1\x00"}, 401),
        ({"HTTP_USER_AGENT": "app\x00"}, 401),
    ],
)
def test_nul_in_a_header_reaches_no_lookup(db, settings, header, status):
    """No header is looked up in the database; gunicorn and nginx refuse control
    characters in headers before the app (tests/deploy/test_nginx.py)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    body = json.dumps({"email": "a@example.com", "password": "x"})
    response = APIClient().post("/account/login", body, content_type="application/json", **header)
    assert response.status_code == status, response.content
    assert isinstance(response.json()["detail"], str)


def text_cases():
    """A JSON string value, as the body's text holds it."""
    return [
        pytest.param('"a\\u0000b@example.com"', id="nul"),
        pytest.param('"a\\ud800b@example.com"', id="lone-high-surrogate"),
        pytest.param('"a\\udc00b@example.com"', id="lone-low-surrogate"),
    ]


@pytest.mark.parametrize("value", text_cases())
def test_unstorable_json_strings_are_a_400_before_the_sign_in_limit_reads_them(db, value):
    body = f'{{"email": {value}, "password": "x"}}'
    assert_refused(APIClient().post("/account/login", body, content_type="application/json"))
    signup = (
        f'{{"email": "new@example.com", "password": "Tangerine-97-Lantern", "username": {value}}}'
    )
    before = counts()
    assert_refused(APIClient().post("/account/signup", signup, content_type="application/json"))
    assert counts() == before


def test_unstorable_json_keys_and_nested_values_are_a_400(signed_in):
    funding = FundingFactory(public=True)
    for body in (
        f'{{"type": "funding", "target": {funding.pk}, "message": "spam", "\\u0000": 1}}',
        f'{{"type": "funding", "target": {funding.pk}, "message": ["x\\ud800"]}}',
    ):
        assert_refused(signed_in.post("/report/", body, content_type="application/json"))
    assert not Report.objects.exists()


def test_an_emoji_written_as_a_surrogate_pair_is_fine(signed_in):
    funding = FundingFactory(public=True)
    body = f'{{"type": "funding", "target": {funding.pk}, "message": "\\ud83c\\udf81 spam"}}'
    response = signed_in.post("/report/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Report.objects.get().message == "\U0001f381 spam"


def test_nul_in_form_fields_is_a_400(signed_in):
    before = counts()
    assert_refused(APIClient().post("/account/login", {"email": "a\x00@example.com", "x": "1"}))
    assert_refused(
        APIClient().post(
            "/account/signup",
            {"email": "new@example.com", "password": "Tangerine-97-Lantern", "username": "n\x00"},
        )
    )
    # DELETE bodies are forms too.
    assert_refused(
        signed_in.delete("/remit/", "id=1%00", content_type="application/x-www-form-urlencoded")
    )
    assert_refused(
        signed_in.delete("/funding/", "id%00=1", content_type="application/x-www-form-urlencoded")
    )
    assert counts() == before


def test_nul_in_multipart_fields_is_a_400_and_stores_nothing(signed_in, settings):
    before = counts()
    response = signed_in.post(
        "/funding/",
        {
            "title": "A gift\x00",
            "content": "x",
            "goal_amount": "50000",
            "public": "true",
            "expire_on": "2099-01-01T00:00:00.000",
            "image": _png(),
        },
        format="multipart",
    )
    assert_refused(response)
    assert counts() == before
    assert not list(settings.MEDIA_ROOT.rglob("*.*"))
    assert_refused(signed_in.put("/account/", {"username": "x\x00y"}, format="multipart"))


def test_nul_in_an_admin_form_is_a_400(db, client):
    """The admin is plain Django: its forms are checked by the middleware."""
    client.force_login(AccountFactory(is_staff=True, is_superuser=True))
    victim = AccountFactory()
    response = client.post(
        "/admin/accounts/account/",
        {"action": "delete_selected", "_selected_action": ["\x00", victim.pk]},
    )
    assert_refused(response)
    assert Account.objects.filter(pk=victim.pk).exists()


def _png():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("gift.png", image_bytes(), content_type="image/png")

"""POST /account/kakaologin against a local server that speaks Kakao Login."""

import pytest

from accounts.models import Account
from accounts.tests import kakao_server as ks
from tests.factories import AccountFactory

URL = "/account/kakaologin"
pytestmark = pytest.mark.django_db


def login(api, token, fmt=None):
    return api.post(URL, {"accessToken": token}, format=fmt)


def test_first_login_creates_the_account_from_kakao(api, kakao):
    response = login(api, ks.GOOD_TOKEN)

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["user"] == {
        "id": str(ks.KAKAO_ID),
        "email": "gildong.hong@kakao.example",
        "username": "홍길동",
        "birthday": "1130",
        "birthday_type": "solar",
        "image": None,
        "follower": 0,
        "followee": 0,
        "bank_account": None,
        "gender": "female",
        "age_range": "20~29",
    }
    assert set(body["token"]) == {"access_token", "refresh_token"}
    # The 19-digit id survived exactly (a float would have rounded it).
    account = Account.objects.get(pk="4123456789012345678")
    assert not account.has_usable_password()
    # Kakao was asked exactly as docs/KAKAO.md says.
    assert kakao.requests == [{"path": "/v2/user/me", "authorization": f"Bearer {ks.GOOD_TOKEN}"}]
    # The tokens sign the app in.
    me = api.post("/account/", HTTP_AUTHORIZATION=f"Bearer {body['token']['access_token']}")
    assert me.status_code == 200
    assert me.json()["id"] == str(ks.KAKAO_ID)


@pytest.mark.parametrize("fmt", [None, "json"])
def test_later_logins_find_the_same_account_and_keep_the_users_edits(api, kakao, fmt):
    first = login(api, ks.GOOD_TOKEN, fmt)
    assert first.status_code == 201
    access = first.json()["token"]["access_token"]
    edit = api.put(
        "/account/",
        {"username": "길동이"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )
    assert edit.status_code == 200

    again = login(api, ks.GOOD_TOKEN, fmt)

    assert again.status_code == 200
    assert again.json()["user"]["id"] == str(ks.KAKAO_ID)
    assert again.json()["user"]["username"] == "길동이"
    assert again.json()["token"]["access_token"] != access
    assert Account.objects.count() == 1


def test_form_urlencoded_body_is_accepted(api, kakao):
    response = api.post(
        URL, f"accessToken={ks.GOOD_TOKEN}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201


def test_a_user_who_agreed_to_nothing_gets_defaults(api, kakao):
    response = login(api, ks.MINIMAL_TOKEN)

    assert response.status_code == 201
    user = response.json()["user"]
    assert user["id"] == str(ks.MINIMAL_ID)
    assert user["email"] == ""  # a string, never null: the app requires one
    assert user["username"] == "kakao user"
    assert user["birthday"] is None
    assert user["gender"] is None
    assert user["age_range"] is None
    assert Account.objects.get(pk=str(ks.MINIMAL_ID)).email is None


def test_nickname_falls_back_to_properties_and_is_cut_to_20_characters(api, kakao):
    kakao.users["props"] = {
        "id": 77,
        "properties": {"nickname": "가" * 30},
        "kakao_account": {"profile_nickname_needs_agreement": True},
    }
    response = login(api, "props")
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "가" * 20


@pytest.mark.parametrize(
    "flags",
    [{"is_email_verified": False}, {"is_email_valid": False}],
    ids=["unverified", "invalid"],
)
def test_an_email_kakao_does_not_vouch_for_is_not_kept(api, kakao, flags):
    kakao.users["t"] = ks.kakao_user(kakao_id=501, **flags)
    response = login(api, "t")
    assert response.status_code == 201
    assert response.json()["user"]["email"] == ""
    assert Account.objects.get(pk="501").email is None


def test_odd_field_values_are_ignored_not_fatal(api, kakao):
    kakao.users["t"] = ks.kakao_user(
        kakao_id=502,
        email="not an email",
        birthday="1340",
        gender=["female"],
        profile="nope",
    )
    kakao.users["t"]["properties"] = None
    response = login(api, "t")
    assert response.status_code == 201
    user = response.json()["user"]
    assert (user["email"], user["birthday"], user["gender"]) == ("", None, None)
    assert user["username"] == "kakao user"


def test_an_email_that_belongs_to_another_account_is_left_empty(api, kakao):
    AccountFactory(email="gildong.hong@kakao.example")

    response = login(api, ks.GOOD_TOKEN)

    assert response.status_code == 201
    assert response.json()["user"]["email"] == ""
    assert Account.objects.get(pk=str(ks.KAKAO_ID)).email is None


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        ("unknown-token", "Kakao rejected the access token (invalid or expired)."),
        (ks.FORBIDDEN_TOKEN, "Kakao refused the request (HTTP 403, code -3)."),
        (ks.SERVER_ERROR_TOKEN, "Kakao login is unavailable right now; try again."),
        (ks.MALFORMED_TOKEN, "Kakao answered with malformed data."),
        (ks.NO_ID_TOKEN, "Kakao answered without a user id."),
        (ks.FLOAT_ID_TOKEN, "Kakao answered without a user id."),
    ],
)
def test_kakao_failures_answer_400_and_create_nothing(api, kakao, token, detail):
    response = login(api, token)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert len(kakao.requests) == 1
    assert not Account.objects.exists()


def test_a_kakao_slower_than_the_time_out_answers_400(api, kakao, settings):
    settings.KAKAO_TIMEOUT_SECONDS = 0.5

    response = login(api, ks.SLOW_TOKEN)

    # Kakao got the call and still holds its answer: the app gave up on its own.
    assert kakao.slow_call_arrived.wait(30)
    assert not kakao.release.is_set()
    assert response.status_code == 400
    assert response.json() == {"detail": "Kakao did not answer in time; try again."}
    assert not Account.objects.exists()


def test_an_unreachable_kakao_answers_400(api, kakao_unreachable):
    response = login(api, ks.GOOD_TOKEN)

    assert response.status_code == 400
    assert response.json() == {"detail": "Kakao could not be reached; try again."}
    assert not Account.objects.exists()


@pytest.mark.parametrize("data", [{}, {"accessToken": ""}, {"token": ks.GOOD_TOKEN}])
def test_missing_access_token_answers_400_without_asking_kakao(api, kakao, data):
    response = api.post(URL, data)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("accessToken:")
    assert kakao.requests == []


@pytest.mark.parametrize("token", ["two words", "line\nbreak", "tab\there"])
def test_a_token_that_cannot_be_a_header_is_refused_without_asking_kakao(api, kakao, token):
    response = api.post(URL, {"accessToken": token}, format="json")

    assert response.status_code == 400
    assert kakao.requests == []


def test_a_deactivated_account_cannot_log_in_again(api, kakao):
    first = login(api, ks.GOOD_TOKEN).json()
    deleted = api.delete("/account/", HTTP_AUTHORIZATION=f"Bearer {first['token']['access_token']}")
    assert deleted.status_code == 200

    response = login(api, ks.GOOD_TOKEN)

    assert response.status_code == 403
    assert response.json() == {"detail": "This account has been deactivated."}
    account = Account.objects.get(pk=str(ks.KAKAO_ID))
    assert account.is_active is False
    assert account.email is None  # not re-filled from Kakao


def test_a_stale_bearer_token_sent_along_does_not_matter(api, kakao):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = api.post(URL, {"accessToken": ks.GOOD_TOKEN})

    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_logins_create_one_account(kakao):
    from rest_framework.test import APIClient

    from accounts.tests.test_follow import run_in_threads

    results = run_in_threads([lambda: login(APIClient(), ks.GOOD_TOKEN) for _ in range(3)])

    assert sorted(r.status_code for r in results) == [200, 200, 201], results
    assert {r.json()["user"]["id"] for r in results} == {str(ks.KAKAO_ID)}
    assert Account.objects.count() == 1


@pytest.mark.parametrize("header", [None, "KakaoAK abc", "Bearer", "bearer abc", "Bearer a b"])
def test_the_fake_kakao_refuses_a_malformed_authorization_header(kakao, header):
    import httpx

    headers = {"Authorization": header} if header else {}
    response = httpx.get(f"{kakao.base_url}/v2/user/me", headers=headers, timeout=2)

    assert response.status_code == 401
    assert response.json()["code"] == -401

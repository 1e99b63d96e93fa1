"""GET /account/search?username=: case-insensitive, active accounts only, paged by 8."""

import pytest

from tests.factories import AccountFactory
from tests.helpers import warm

pytestmark = pytest.mark.django_db
URL = "/account/search"


def names(response) -> list[str]:
    return [profile["username"] for profile in response.json()]


def test_search_is_case_insensitive_contains_ordered_by_username_then_id(auth_api):
    AccountFactory(id="2", username="Kim Minsu")
    AccountFactory(id="1", username="kim minsu")
    AccountFactory(id="3", username="ABKIMCD")
    AccountFactory(username="Lee")

    response = auth_api.get(URL, {"username": "KIM"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert [(p["username"], p["id"]) for p in response.json()] == [
        ("ABKIMCD", "3"),
        ("Kim Minsu", "2"),
        ("kim minsu", "1"),
    ]


def test_search_answers_profiles_without_private_fields(auth_api):
    AccountFactory(username="김철수", email="chulsoo@example.com", bank_account="국민 123456")

    [profile] = auth_api.get(URL, {"username": "철수"}).json()

    assert set(profile) == {"id", "email", "username", "birthday", "image", "follower", "followee"}
    assert profile["email"] == ""


def test_search_skips_deactivated_accounts(auth_api):
    AccountFactory(username="findme active")
    AccountFactory(username="findme gone", is_active=False)

    assert names(auth_api.get(URL, {"username": "findme"})) == ["findme active"]


def test_wildcards_are_matched_literally(auth_api):
    AccountFactory(username="100% real")
    AccountFactory(username="1000 real")

    assert names(auth_api.get(URL, {"username": "0%"})) == ["100% real"]
    assert auth_api.get(URL, {"username": "_"}).status_code == 204  # nothing matches


def test_search_pages_by_8_and_answers_204_past_the_end(auth_api):
    for n in range(10):
        AccountFactory(username=f"page{n:02d}")

    first = auth_api.get(URL, {"username": "page"})
    second = auth_api.get(URL, {"username": "page", "page": 2})
    past = auth_api.get(URL, {"username": "page", "page": 3})
    bad = auth_api.get(URL, {"username": "page", "page": "x"})

    assert names(first) == [f"page{n:02d}" for n in range(8)]
    assert names(second) == ["page08", "page09"]
    assert past.status_code == 204
    assert past.content == b""
    assert names(bad) == names(first)


def test_search_query_count_does_not_grow_with_the_page(auth_api, django_assert_num_queries):
    AccountFactory(username="solo one")
    for n in range(8):
        AccountFactory(username=f"many{n}")

    warm(auth_api)
    # One query reads the page (the caller's account comes from the cache).
    with django_assert_num_queries(1):
        assert len(auth_api.get(URL, {"username": "solo"}).json()) == 1
    with django_assert_num_queries(1):
        assert len(auth_api.get(URL, {"username": "many"}).json()) == 8


@pytest.mark.parametrize("query", [{}, {"username": ""}, {"username": "   "}])
def test_search_without_a_username_is_400(auth_api, query):
    response = auth_api.get(URL, query)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("username:")


def test_search_needs_authentication(api):
    assert api.get(URL, {"username": "a"}).status_code == 401

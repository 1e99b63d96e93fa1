"""Search and the follow lists answer in a constant number of queries (at most 4 with
authentication) on every page, and unpaged follow lists too however long they are."""

import pytest
from django.db import connection

from tests.factories import AccountFactory, FollowFactory
from tests.helpers import warm

pytestmark = pytest.mark.django_db
MAX_QUERIES = 4


def count(auth_api, django_assert_max_num_queries, url, params) -> tuple[int, int]:
    """(queries made, profiles answered) for one request, the caller's account cached."""
    warm(auth_api)
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = auth_api.get(url, params)
    assert response.status_code in (200, 204), response.content
    items = len(response.json()) if response.status_code == 200 else 0
    return len(captured.captured_queries), items


def test_search_pages_cost_the_same(auth_api, django_assert_max_num_queries):
    for n in range(17):
        AccountFactory(username=f"sunny{n:02d}")
    seen = [
        count(
            auth_api,
            django_assert_max_num_queries,
            "/account/search",
            {"username": "UNNY", "page": p},
        )
        for p in (1, 2, 3, 4)
    ]
    assert [items for _, items in seen] == [8, 8, 1, 0]
    assert len({queries for queries, items in seen if items}) == 1


@pytest.mark.parametrize("direction", ["follower", "followee"])
def test_follow_list_pages_cost_the_same(auth_api, django_assert_max_num_queries, direction):
    target = AccountFactory()
    for other in AccountFactory.create_batch(17):
        pair = (other, target) if direction == "follower" else (target, other)
        FollowFactory(follower=pair[0], followee=pair[1])
    seen = [
        count(
            auth_api, django_assert_max_num_queries, "/follow/", {direction: target.pk, "page": p}
        )
        for p in (1, 2, 3, 4)
    ]
    assert [items for _, items in seen] == [8, 8, 1, 0]
    assert len({queries for queries, items in seen if items}) == 1
    # Without `page`: the first 100 at most, in the same number of queries.
    queries, items = count(
        auth_api, django_assert_max_num_queries, "/follow/", {direction: target.pk}
    )
    assert (queries, items) == (seen[0][0], 17)


@pytest.mark.postgres
def test_username_search_has_a_trigram_index_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'account_username_trgm_idx'"
        )
        [(definition,)] = cursor.fetchall()
    assert "gin" in definition and "gin_trgm_ops" in definition
    assert "upper" in definition.lower()

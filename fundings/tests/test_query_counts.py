"""Every list of fundings and contributions answers in a constant number of queries, at
most 4 with authentication, whoever asks (anonymous, a friend, a stranger, the author,
staff), whatever the page size, page number or how many contributions stand behind it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from fundings.models import Funding
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import client_for, warm

MAX_QUERIES = 4


def befriend(a, b):
    FollowFactory(follower=a, followee=b)
    FollowFactory(follower=b, followee=a)


def fundings_by(author, n: int) -> list[Funding]:
    """n fundings of `author`, alternately public and friends-only, one second apart."""
    start = timezone.now() - timedelta(days=1)
    return [
        FundingFactory(author=author, public=i % 2 == 0, created_on=start + timedelta(seconds=i))
        for i in range(n)
    ]


def queries_and_items(client, django_assert_max_num_queries, url, params) -> tuple[int, int]:
    """How many queries the request made (at most MAX_QUERIES) and how many items came."""
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = client.get(url, params)
    assert response.status_code in (200, 204), response.content
    items = len(response.json()) if response.status_code == 200 else 0
    return len(captured.captured_queries), items


VIEWERS = ["anonymous", "stranger", "friend", "author", "staff"]


@pytest.fixture
def world(db, contribute):
    """The author has 17 fundings (3 pages); the friend follows and gave to each of them,
    several times to some (the joined feed groups them); staff follows the author."""
    author, friend, staff = AccountFactory(), AccountFactory(), AccountFactory(is_staff=True)
    befriend(author, friend)
    FollowFactory(follower=staff, followee=author)
    fundings = fundings_by(author, 17)
    for i, funding in enumerate(fundings):
        for _ in range(1 + i % 3):
            contribute(funding, friend, 1_000)
    return {
        "author": author,
        "friend": friend,
        "stranger": AccountFactory(),
        "staff": staff,
        "fundings": fundings,
    }


def client_of(world, viewer: str) -> APIClient:
    return APIClient() if viewer == "anonymous" else warm(client_for(world[viewer]))


FEEDS = ["/funding/public", "/funding/following", "/funding/user", "/funding/joined"]


@pytest.mark.parametrize(
    ("viewer", "url"),
    # Only the public feed is open to anonymous callers.
    [(v, url) for v in VIEWERS for url in FEEDS if v != "anonymous" or url == "/funding/public"],
)
def test_feeds_make_the_same_queries_on_every_page(
    world, viewer, url, django_assert_max_num_queries
):
    client = client_of(world, viewer)
    params = {"id": world["author"].pk} if url == "/funding/user" else {}
    # The public feed reads its first page in one step and the deeper ones in two (their
    # rows, then their words: fundings.selectors.feeds.public_feed_page): one query more
    # past page 1. Each page is read once here: its words are not kept yet.
    first_page_saves = 1 if url == "/funding/public" else 0
    counts, sizes = set(), []
    for page in (1, 2, 3, 4):
        queries, items = queries_and_items(
            client, django_assert_max_num_queries, url, {**params, "page": page}
        )
        sizes.append(items)
        if items:
            counts.add(queries + (first_page_saves if page == 1 else 0))
    # A full page costs what a partial one costs: no query per row, no COUNT.
    assert len(counts) <= 1, (url, viewer, counts, sizes)


def test_the_feeds_lists_are_those_expected(world):
    """The query counts above are measured on real pages, not on empty answers."""
    friend, stranger = client_for(world["friend"]), client_for(world["stranger"])
    author_id = world["author"].pk
    assert len(friend.get("/funding/following").json()) == 8
    assert len(friend.get("/funding/joined", {"page": 3}).json()) == 1
    assert len(friend.get("/funding/user", {"id": author_id, "page": 3}).json()) == 1
    assert len(stranger.get("/funding/user", {"id": author_id, "page": 2}).json()) == 1
    assert len(APIClient().get("/funding/public", {"page": 2}).json()) == 1


@pytest.mark.parametrize("viewer", VIEWERS)
def test_contribution_list_makes_the_same_queries_on_every_page(
    world, contribute, viewer, django_assert_max_num_queries
):
    # A public funding with 17 contributions (3 pages), and a friends-only one for the
    # viewers who may see it.
    public = world["fundings"][-1]
    for _ in range(14):
        contribute(public, AccountFactory(), 1_000)
    friends_only = world["fundings"][-2]
    targets = [public] + ([friends_only] if viewer in ("friend", "author") else [])
    client = client_of(world, viewer)
    for funding in targets:
        counts = set()
        for page in (1, 2, 3, 4):
            queries, items = queries_and_items(
                client, django_assert_max_num_queries, "/remit/", {"id": funding.pk, "page": page}
            )
            if items:
                counts.add(queries)
        assert len(counts) == 1, (viewer, funding.public, counts)

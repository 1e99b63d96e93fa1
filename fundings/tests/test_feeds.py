"""The four feeds: order, paging, what each one holds, and a constant number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import follow, unfollow
from fundings.models import Funding, FundingState
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import client_for


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()]


def make_fundings(n: int, **kwargs) -> list[Funding]:
    """n fundings, the last one newest (distinct created_on, one second apart)."""
    start = timezone.now() - timedelta(days=1)
    return [FundingFactory(created_on=start + timedelta(seconds=i), **kwargs) for i in range(n)]


@pytest.fixture
def viewer(db):
    return AccountFactory()


def befriend(a, b):
    FollowFactory(follower=a, followee=b)
    FollowFactory(follower=b, followee=a)


# --- paging and order (on the public feed; every feed shares the paging code) -------------


def test_public_feed_newest_first_eight_a_page(api, db):
    fundings = make_fundings(10)
    newest_first = [f.id for f in reversed(fundings)]

    first = api.get("/funding/public")
    assert first["Content-Type"] == "application/json; charset=utf-8"
    assert ids(first) == newest_first[:8]
    assert ids(api.get("/funding/public", {"page": 2})) == newest_first[8:]

    past_end = api.get("/funding/public", {"page": 3})
    assert past_end.status_code == 204
    assert past_end.content == b""


@pytest.mark.parametrize("page", ["abc", "0", "-1", ""])
def test_a_bad_page_means_page_one(api, db, page):
    fundings = make_fundings(9)
    assert ids(api.get("/funding/public", {"page": page})) == [f.id for f in fundings[::-1][:8]]


def test_same_instant_is_ordered_by_id(api, db):
    now = timezone.now()
    a, b = FundingFactory(created_on=now), FundingFactory(created_on=now)
    assert ids(api.get("/funding/public")) == [b.id, a.id]


def test_empty_feed_is_204(api, db):
    response = api.get("/funding/public")
    assert response.status_code == 204
    assert response.content == b""


def test_items_carry_the_list_fields(api, db):
    funding = FundingFactory()
    item = api.get("/funding/public").json()[0]
    for key in ("id", "title", "image", "goal_amount", "current_amount", "expire_on", "public"):
        assert key in item
    assert item["author"] == {
        "id": funding.author.id,
        "username": funding.author.username,
        "image": None,
    }
    assert item["status"] == "open"


# --- what each feed holds -----------------------------------------------------------------


def test_public_feed_has_public_ones_only_even_for_the_author(viewer):
    public = FundingFactory(author=viewer)
    FundingFactory(author=viewer, public=False)
    assert ids(client_for(viewer).get("/funding/public")) == [public.id]


def test_canceled_fundings_are_left_out_of_every_feed(viewer, contribute):
    author = AccountFactory()
    befriend(viewer, author)
    kept = FundingFactory(author=author)
    canceled = FundingFactory(author=author, state=FundingState.CANCELED)
    contribute(kept, viewer)
    contribute(canceled, viewer)
    client = client_for(viewer)
    for url, params in [
        ("/funding/public", {}),
        ("/funding/following", {}),
        ("/funding/user", {"id": author.id}),
        ("/funding/joined", {}),
    ]:
        assert ids(client.get(url, params)) == [kept.id], url


def test_expired_achieved_and_paid_out_fundings_stay_in_feeds(api, db):
    expired = FundingFactory()
    Funding.objects.filter(pk=expired.pk).update(expire_on=timezone.now() - timedelta(days=1))
    achieved = FundingFactory(state=FundingState.ACHIEVED, goal_amount=1000, current_amount=1000)
    paid = FundingFactory(state=FundingState.PAID_OUT, goal_amount=1000, current_amount=1000)
    statuses = {item["id"]: item["status"] for item in api.get("/funding/public").json()}
    assert statuses == {expired.id: "expired", achieved.id: "achieved", paid.id: "paid_out"}


def test_following_feed(viewer):
    friend, followee, follower, stranger = AccountFactory.create_batch(4)
    befriend(viewer, friend)
    FollowFactory(follower=viewer, followee=followee)
    FollowFactory(follower=follower, followee=viewer)
    seen = [
        FundingFactory(author=friend, public=True),
        FundingFactory(author=friend, public=False),
        FundingFactory(author=followee, public=True),
    ]
    FundingFactory(author=followee, public=False)  # not mutual
    FundingFactory(author=follower, public=True)  # they follow me, I do not follow them
    FundingFactory(author=stranger, public=True)
    FundingFactory(author=viewer, public=True)  # my own are not "following"
    assert ids(client_for(viewer).get("/funding/following")) == [f.id for f in reversed(seen)]


def test_following_feed_empty_is_204(viewer):
    FundingFactory()
    assert client_for(viewer).get("/funding/following").status_code == 204


def test_user_feed(viewer):
    author = AccountFactory()
    public = FundingFactory(author=author, public=True)
    private = FundingFactory(author=author, public=False)
    FundingFactory()  # someone else's
    assert ids(client_for(viewer).get("/funding/user", {"id": author.id})) == [public.id]
    assert ids(client_for(author).get("/funding/user", {"id": author.id})) == [
        private.id,
        public.id,
    ]
    befriend(viewer, author)
    assert ids(client_for(viewer).get("/funding/user", {"id": author.id})) == [
        private.id,
        public.id,
    ]


def test_user_feed_paging(viewer):
    author = AccountFactory()
    fundings = make_fundings(9, author=author)
    client = client_for(viewer)
    assert ids(client.get("/funding/user", {"id": author.id, "page": "2"})) == [fundings[0].id]
    assert client.get("/funding/user", {"id": author.id, "page": "3"}).status_code == 204


def test_user_feed_of_unknown_or_deactivated_account_is_404(viewer):
    response = client_for(viewer).get("/funding/user", {"id": "nobody"})
    assert response.status_code == 404
    gone = AccountFactory(is_active=False)
    assert client_for(viewer).get("/funding/user", {"id": gone.id}).status_code == 404


def test_user_feed_without_id_is_400(viewer):
    response = client_for(viewer).get("/funding/user")
    assert response.status_code == 400
    assert "id" in response.json()


def test_user_feed_of_someone_without_fundings_is_204(viewer):
    author = AccountFactory()
    assert client_for(viewer).get("/funding/user", {"id": author.id}).status_code == 204


def test_joined_feed_each_once_latest_contribution_first(viewer, contribute):
    now = timezone.now()
    first, second, third, refunded_only, others_only = FundingFactory.create_batch(5)
    contribute(first, viewer, created_on=now - timedelta(hours=5))
    contribute(second, viewer, created_on=now - timedelta(hours=4))
    contribute(third, viewer, created_on=now - timedelta(hours=3))
    # A second gift to `first` makes it the most recent one.
    contribute(first, viewer, created_on=now - timedelta(hours=1))
    # A refunded contribution to `second`, more recent, does not count.
    contribute(second, viewer, created_on=now, refunded=True)
    contribute(refunded_only, viewer, refunded=True)
    contribute(others_only, AccountFactory())
    assert ids(client_for(viewer).get("/funding/joined")) == [first.id, third.id, second.id]


def test_joined_feed_paging(viewer, contribute):
    fundings = FundingFactory.create_batch(9)
    now = timezone.now()
    for i, funding in enumerate(fundings):
        contribute(funding, viewer, created_on=now - timedelta(minutes=i))
    client = client_for(viewer)
    assert ids(client.get("/funding/joined")) == [f.id for f in fundings[:8]]
    assert ids(client.get("/funding/joined", {"page": 2})) == [fundings[8].id]
    response = client.get("/funding/joined", {"page": 3})
    assert response.status_code == 204
    assert response.content == b""


def test_joined_feed_respects_visibility(viewer, contribute):
    """A friends-only funding I gave to leaves my list when we stop being friends."""
    author = AccountFactory()
    follow(follower=viewer, followee_id=author.pk)
    follow(follower=author, followee_id=viewer.pk)
    funding = FundingFactory(author=author, public=False)
    contribute(funding, viewer)
    client = client_for(viewer)
    assert ids(client.get("/funding/joined")) == [funding.id]
    unfollow(follower=author, followee_id=viewer.pk)
    assert client.get("/funding/joined").status_code == 204


@pytest.mark.parametrize(
    "url", ["/funding/following", "/funding/user?id=x", "/funding/joined", "/funding/?id=1"]
)
def test_feeds_that_need_a_token_answer_401(api, db, url):
    response = api.get(url)
    assert response.status_code == 401
    assert "detail" in response.json()


# --- query counts: the same for one item as for a full page -------------------------------


def feed_setup(viewer, n: int, contribute, *, one_author: bool):
    """n public fundings the viewer follows and gave to, by n friends (or by one friend)."""
    target = AccountFactory()
    befriend(viewer, target)
    for i in range(n):
        author = target if one_author or i == 0 else AccountFactory()
        if author != target:
            befriend(viewer, author)
        contribute(FundingFactory(author=author, public=i % 2 == 0), viewer)
    return target


# A client's first request, before any page was kept (test_feed_cards.py: a kept page's
# words are not read again).
FEEDS = [
    ("/funding/public", 2),  # the account of the token, the page (authors joined in)
    ("/funding/following", 3),  # ... the page's rows, then the words of its fundings
    ("/funding/joined", 3),  # ... the page's rows, then the words of its fundings
    ("/funding/user", 4),  # ... plus the account whose fundings are listed
]


@pytest.mark.parametrize(("url", "queries"), FEEDS)
@pytest.mark.parametrize("n", [1, 8])
def test_feed_query_count_does_not_grow_with_the_page(
    viewer, contribute, django_assert_num_queries, url, queries, n
):
    user_feed = url == "/funding/user"
    target = feed_setup(viewer, n, contribute, one_author=user_feed)
    client = client_for(viewer)
    with django_assert_num_queries(queries):
        response = client.get(url, {"id": target.id} if user_feed else {})
    # The public feed holds the public half; the others every funding (all by friends).
    expected = (n + 1) // 2 if url == "/funding/public" else n
    assert len(response.json()) == expected


def test_anonymous_public_feed_is_one_query(api, db, django_assert_num_queries):
    FundingFactory.create_batch(8)
    with django_assert_num_queries(1):
        response = api.get("/funding/public")
    assert len(response.json()) == 8

"""funsun.compiled: SQL compiled once per shape gives what the querysets it came from give.

The selectors' querysets are the definition of each read (visibility included); the compiled
pages must answer exactly their rows, in their order, for every kind of viewer and page.
"""

import random
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import Account
from fundings import contribution_selectors
from fundings import selectors as funding_selectors
from fundings.models import Contribution, Funding, FundingState
from funsun.compiled import CompiledQuery, Like
from tests.factories import AccountFactory, FollowFactory, FundingFactory, credited_contribution

PAGE = 3


@pytest.fixture
def world(db):
    """A random little network: follows one way and both ways, fundings of every kind (public
    or friends-only, hidden, canceled, by a deactivated author) and contributions, some
    refunded. Fixed seed: the same world every run."""
    rng = random.Random(20261124)
    accounts = [AccountFactory(username=f"member_{i}") for i in range(10)]
    staff = AccountFactory(username="staff", is_staff=True)
    gone = AccountFactory(username="gone")
    for a in accounts:
        for b in rng.sample(accounts, 4):
            if a != b and not a.following.filter(followee=b).exists():
                FollowFactory(follower=a, followee=b)
    now = timezone.now()
    fundings = []
    for i in range(40):
        author = gone if i % 13 == 0 else rng.choice(accounts)
        funding = FundingFactory(
            author=author,
            public=rng.random() < 0.5,
            is_hidden=i % 11 == 0,
            state=FundingState.CANCELED if i % 9 == 0 else FundingState.OPEN,
        )
        # Equal creation times for some: the id must break the tie the same way.
        Funding.objects.filter(pk=funding.pk).update(created_on=now - timedelta(hours=i // 2))
        fundings.append(funding)
    for i in range(60):
        credited_contribution(
            rng.choice(fundings),
            rng.choice(accounts),
            amount=1_000,
            created_on=now - timedelta(minutes=rng.randrange(500)),
            refunded=i % 7 == 0,
        )
    Account.objects.filter(pk=gone.pk).update(is_active=False)
    return {"accounts": accounts, "staff": staff, "fundings": fundings}


def pages(fetch) -> list[list[int]]:
    return [[row["id"] for row in fetch(limit=PAGE, offset=start)] for start in (0, 3, 6, 30)]


def queryset_pages(queryset) -> list[list[int]]:
    ids = list(queryset.values_list("id", flat=True))
    return [ids[start : start + PAGE] for start in (0, 3, 6, 30)]


def viewers(world):
    return [*world["accounts"], world["staff"]]


def test_public_feed_pages_match_the_queryset(world):
    for viewer in [None, *viewers(world)]:
        assert pages(lambda **p: funding_selectors.public_feed_rows(viewer=viewer, **p)) == (
            queryset_pages(funding_selectors.public_feed(viewer=viewer))
        )


def test_following_feed_pages_match_the_queryset(world):
    for viewer in viewers(world):
        assert pages(lambda **p: funding_selectors.following_feed_rows(viewer=viewer, **p)) == (
            queryset_pages(funding_selectors.following_feed(viewer=viewer))
        )


def test_pages_larger_than_the_app_asks_for_are_read_whole(world):
    viewer = world["staff"]
    expected = list(funding_selectors.public_feed(viewer=viewer).values_list("id", flat=True))
    assert len(expected) > 8  # more than one query's worth of ids in the second step
    rows = funding_selectors.public_feed_rows(viewer=viewer, limit=100, offset=1)
    assert [row["id"] for row in rows] == expected[1:]


def test_joined_feed_pages_match_the_queryset(world):
    seen = 0
    for viewer in viewers(world):
        expected = queryset_pages(funding_selectors.joined_feed(viewer=viewer))
        seen += len(expected[0])
        assert pages(lambda **p: funding_selectors.joined_feed_rows(viewer=viewer, **p)) == (
            expected
        )
    assert seen  # the world has joined fundings to compare


def test_user_feed_pages_match_the_queryset(world):
    everyone = viewers(world)
    for viewer in everyone:
        for account in everyone:
            author = funding_selectors.feed_account(viewer=viewer, account_id=account.pk)
            assert pages(
                lambda **p: funding_selectors.user_feed_rows(viewer=viewer, author=author, **p)
            ) == queryset_pages(funding_selectors.user_feed(viewer=viewer, author=author))


def test_detail_and_contributions_follow_visibility(world):
    for viewer in [None, *viewers(world)]:
        visible = set(funding_selectors.visible_fundings(viewer).values_list("id", flat=True))
        for funding in world["fundings"]:
            if funding.pk in visible:
                row = funding_selectors.funding_row_for_viewer(viewer=viewer, funding_id=funding.pk)
                assert row["id"] == funding.pk
                assert row["author__id"] == funding.author_id
                # Past the last contribution of a visible funding: empty (204), not 404.
                empty = contribution_selectors.contribution_page(
                    viewer=viewer, funding_id=funding.pk, limit=8, offset=10_000
                )
                assert empty == []
            else:
                with pytest.raises(Exception, match="not found"):
                    funding_selectors.funding_row_for_viewer(viewer=viewer, funding_id=funding.pk)
                with pytest.raises(Exception, match="not found"):
                    contribution_selectors.contribution_page(
                        viewer=viewer, funding_id=funding.pk, limit=8, offset=10_000
                    )
    for viewer in [None, *viewers(world)]:
        visible = set(funding_selectors.visible_fundings(viewer).values_list("id", flat=True))
        for funding in world["fundings"]:
            expected = list(
                Contribution.objects.filter(funding=funding, refunded_on__isnull=True)
                .order_by("-created_on", "-id")
                .values_list("id", flat=True)
            )
            if funding.pk not in visible:
                with pytest.raises(Exception, match="not found"):
                    contribution_selectors.contribution_page(
                        viewer=viewer, funding_id=funding.pk, limit=100, offset=0
                    )
                continue
            rows = contribution_selectors.contribution_page(
                viewer=viewer, funding_id=funding.pk, limit=100, offset=0
            )
            assert [row["id"] for row in rows] == expected
            assert {row["funding_author_id"] for row in rows} <= {funding.author_id}


def test_rows_come_back_as_the_orm_returns_them(world):
    funding = funding_selectors.public_feed(viewer=None).first()
    row = funding_selectors.funding_row_for_viewer(viewer=None, funding_id=funding.pk)
    funding.refresh_from_db()
    assert row["created_on"] == funding.created_on
    assert timezone.is_aware(row["created_on"])
    assert row["public"] is True  # SQLite's 1 converted, as the ORM does
    assert row["goal_amount"] == funding.goal_amount


def test_search_pattern_characters_match_themselves(db):
    AccountFactory(username="100%_sure")
    AccountFactory(username="100 percent")
    AccountFactory(username="1000x sure")
    names = lambda term: [  # noqa: E731
        a.username for a in account_selectors.search_page(username=term, limit=8, offset=0)
    ]
    assert names("0%_s") == ["100%_sure"]
    assert names("%") == ["100%_sure"]
    assert names("_") == ["100%_sure"]
    assert sorted(names("SURE")) == ["100%_sure", "1000x sure"]
    assert names("SURE") == [a.username for a in account_selectors.search_accounts(username="SURE")]
    assert names("nobody") == []


def test_a_shape_is_compiled_once_per_thread(db):
    FundingFactory()
    calls = []

    def build(shape, funding):
        calls.append(shape)
        return Funding.objects.filter(pk=funding).values("id")

    query = CompiledQuery(Funding, build, funding=int)
    ids = list(Funding.objects.values_list("id", flat=True))
    for pk in ids * 3:
        assert query.rows("a", funding=pk) == [{"id": pk}]
    assert calls == ["a"]
    query.rows("b", funding=ids[0])
    assert calls == ["a", "b"]

    answers = []

    def other_thread():
        try:
            answers.append(query.rows("a", funding=ids[0]))
        finally:
            connection.close()

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return  # an in-memory database is not shared with another thread's connection
    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert calls == ["a", "b", "a"]  # compiled again for the other thread's connection


def test_a_value_the_orm_transforms_is_refused(db):
    query = CompiledQuery(
        Account, lambda shape, name: Account.objects.filter(username__startswith=name), name=str
    )
    with pytest.raises(ImproperlyConfigured, match="transformed a marker"):
        query.rows(name="x")
    like = CompiledQuery(
        Account, lambda shape, name: Account.objects.filter(username__startswith=name), name=Like
    )
    AccountFactory(username="x_y")
    AccountFactory(username="xzy")
    assert [a.username for a in like.instances(name="x_")] == ["x_y"]


def test_sliced_querysets_are_refused(db):
    query = CompiledQuery(Account, lambda shape: Account.objects.all()[:3])
    with pytest.raises(ImproperlyConfigured, match="slice"):
        query.rows()

"""The feeds, the detail and the contribution list agree with the one visibility rule.

Each feed is written its own way for speed (fundings.selectors.feeds: the following feed reads
friendship from the viewer's follow of each author, the user feed once per list, some pages
read ids first). Here each is checked against its definition, computed in Python from
visible_fundings, for every kind of viewer in a random network and for several pages.
"""

import random
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import Account, Follow
from fundings import selectors
from fundings.models import Contribution, Funding, FundingState
from fundings.selectors.visibility import RULE_FIELDS
from funsun.api.errors import NotFound
from tests.factories import AccountFactory, FollowFactory, FundingFactory, credited_contribution

PAGE = 3
STARTS = (0, 3, 6, 30)


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
    # The rules read friendship from Follow.mutual: it says what the rows say.
    for row in Follow.objects.all():
        back = Follow.objects.filter(follower=row.followee, followee=row.follower).exists()
        assert row.mutual == back, row
    return {"accounts": accounts, "staff": staff, "fundings": fundings}


def pages(fetch) -> list[list[int]]:
    return [[funding.id for funding in fetch(limit=PAGE, offset=start)] for start in STARTS]


def expected_pages(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + PAGE] for start in STARTS]


def viewers(world):
    return [*world["accounts"], world["staff"]]


def visible_listed(viewer) -> list[Funding]:
    """The definition every feed starts from: visible, not canceled, newest first."""
    return list(
        selectors.visible_fundings(viewer)
        .exclude(state=FundingState.CANCELED)
        .order_by("-created_on", "-id")
    )


def test_public_feed_is_the_visible_public_fundings(world):
    for viewer in [None, *viewers(world)]:
        expected = [f.id for f in visible_listed(viewer) if f.public]
        assert pages(lambda **p: selectors.public_feed_page(viewer=viewer, **p)) == (
            expected_pages(expected)
        )


def test_following_feed_is_the_visible_fundings_of_followees(world):
    for viewer in viewers(world):
        followees = set(
            Follow.objects.filter(follower=viewer).values_list("followee_id", flat=True)
        )
        expected = [f.id for f in visible_listed(viewer) if f.author_id in followees]
        assert pages(lambda **p: selectors.following_feed_page(viewer=viewer, **p)) == (
            expected_pages(expected)
        )


def test_pages_larger_than_the_app_asks_for_are_read_whole(world):
    viewer = world["staff"]
    expected = [f.id for f in visible_listed(viewer) if f.public]
    assert len(expected) > 8
    page = selectors.public_feed_page(viewer=viewer, limit=100, offset=1)
    assert [funding.id for funding in page] == expected[1:]


def test_user_feed_is_the_visible_fundings_of_that_account(world):
    everyone = viewers(world)
    for viewer in everyone:
        for account in everyone:
            try:
                author = selectors.feed_account(viewer=viewer, account_id=account.pk)
            except NotFound:
                assert not viewer.is_staff and not Account.objects.get(pk=account.pk).is_active
                continue
            expected = [f.id for f in visible_listed(viewer) if f.author_id == account.pk]
            page = partial(selectors.user_feed_page, viewer=viewer, author=author)
            assert pages(page) == expected_pages(expected)


def test_joined_feed_is_the_visible_fundings_the_viewer_holds_money_in(world):
    seen = 0
    for viewer in viewers(world):
        latest = {}
        for contribution in Contribution.objects.filter(
            contributor=viewer, refunded_on__isnull=True
        ):
            latest[contribution.funding_id] = max(
                latest.get(contribution.funding_id, contribution.created_on),
                contribution.created_on,
            )
        joined = [f for f in visible_listed(viewer) if f.id in latest]
        joined.sort(key=lambda f: (latest[f.id], f.id), reverse=True)
        seen += len(joined)
        assert pages(lambda **p: selectors.joined_feed_page(viewer=viewer, **p)) == (
            expected_pages([f.id for f in joined])
        )
    assert seen  # the world has joined fundings to compare


def test_detail_and_contributions_follow_visibility(world):
    for viewer in [None, *viewers(world)]:
        visible = set(selectors.visible_fundings(viewer).values_list("id", flat=True))
        for funding in world["fundings"]:
            expected = list(
                Contribution.objects.filter(funding=funding, refunded_on__isnull=True)
                .order_by("-created_on", "-id")
                .values_list("id", flat=True)
            )
            if funding.pk not in visible:
                with pytest.raises(NotFound):
                    selectors.funding_detail(viewer=viewer, funding_id=funding.pk)
                for offset in (0, 10_000):
                    with pytest.raises(NotFound):
                        selectors.contribution_page(
                            viewer=viewer, funding_id=funding.pk, limit=100, offset=offset
                        )
                continue
            detail = selectors.funding_detail(viewer=viewer, funding_id=funding.pk)
            assert (detail.id, detail.author.id) == (funding.pk, funding.author_id)
            page = selectors.contribution_page(
                viewer=viewer, funding_id=funding.pk, limit=100, offset=0
            )
            assert [row.id for row in page] == expected
            assert {row.funding_author_id for row in page} <= {funding.author_id}
            # Past the last contribution of a visible funding: empty (204), not 404.
            assert (
                selectors.contribution_page(
                    viewer=viewer, funding_id=funding.pk, limit=8, offset=10_000
                )
                == []
            )


def test_the_rule_of_one_funding_is_the_rule_of_the_set(world):
    """may_see, which the reads by id ask of the row they load, says what visible_fundings
    says, for every funding and every kind of viewer, reading only the columns it names."""
    for viewer in [None, AnonymousUser(), *viewers(world)]:
        visible = set(selectors.visible_fundings(viewer).values_list("id", flat=True))
        for funding in Funding.objects.select_related("author").only(*RULE_FIELDS):
            # At most the friendship: a column outside RULE_FIELDS would be one more query.
            with CaptureQueriesContext(connection) as asked:
                seen = selectors.may_see(viewer, funding)
            assert seen is (funding.pk in visible), (viewer, funding)
            assert len(asked) <= (0 if funding.public or viewer is None else 1)
            try:
                found = selectors.funding_for_viewer(viewer=viewer, funding_id=funding.pk)
            except NotFound:
                found = None
            assert (found is not None) is (funding.pk in visible)
        # The world holds fundings each viewer may see and fundings it may not.
        assert 0 < len(visible) < len(world["fundings"])


def test_the_audience_of_one_funding_is_the_rule_of_the_set(world):
    """viewers_among, which a funding's announcement asks of the author's friends, picks
    exactly the accounts whose visible_fundings hold the funding, in one query."""
    accounts = list(Account.objects.all())
    visible = {
        account.pk: set(selectors.visible_fundings(account).values_list("id", flat=True))
        for account in accounts
    }
    for funding in Funding.objects.select_related("author").only(*RULE_FIELDS):
        with CaptureQueriesContext(connection) as asked:
            audience = set(
                selectors.viewers_among(funding, Account.objects.all()).values_list("pk", flat=True)
            )
        assert audience == {pk for pk, ids in visible.items() if funding.pk in ids}, funding
        assert len(asked) == 1


def test_search_pattern_characters_match_themselves(db):
    AccountFactory(username="100%_sure")
    AccountFactory(username="100 percent")
    AccountFactory(username="1000x sure")

    def names(term):
        return [a.username for a in account_selectors.search_accounts(username=term)[:8]]

    assert names("0%_s") == ["100%_sure"]
    assert names("%") == ["100%_sure"]
    assert names("_") == ["100%_sure"]
    assert sorted(names("SURE")) == ["100%_sure", "1000x sure"]
    assert names("nobody") == []

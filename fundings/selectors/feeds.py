"""The four feeds, 8 a page, newest first. Each is visible_fundings' rule, written so that
the database walks an index (fundings.models.Funding.Meta.indexes) rather than the table.

Most pages are read in two steps: the page's rows first, narrow (ids, amounts, authors:
fundings.selectors.cards.ROW_FIELDS), then the words of each funding, from the cache or in
one query (funding_cards). bench/RESULTS.md shows where this pays: a deep page of the public
feed (the rows skipped by OFFSET stay narrow), and the following and joined feeds, which
sort many candidates to keep eight.
"""

from django.db.models import Max, OuterRef, Q, QuerySet

from accounts.models import Account
from fundings.models import Funding, FundingState
from fundings.selectors.cards import ROW_FIELDS, FundingCard, funding_cards
from fundings.selectors.visibility import (
    is_friend,
    is_staff,
    not_withdrawn,
    visible_fundings,
    with_author,
)
from funsun.api.errors import NotFound

# Newest first; `id` breaks ties between rows created in the same instant.
FEED_ORDER = ("-created_on", "-id")


def _listed(fundings: QuerySet[Funding]) -> QuerySet[Funding]:
    """Canceled fundings never appear in feeds (they stay readable by id)."""
    return fundings.exclude(state=FundingState.CANCELED)


def _cards(fundings: QuerySet, limit: int, offset: int) -> list[FundingCard]:
    """One page of `fundings` (ordered, with their ROW_FIELDS) as cards."""
    return funding_cards(fundings[offset : offset + limit])


def public_feed(*, viewer: Account | None) -> QuerySet[Funding]:
    """Public fundings only (also for signed-in viewers), newest first."""
    # visible_fundings(viewer).filter(public=True) is the same set: every public funding
    # passes the author-or-friend test, and the plain filter plans as an index walk.
    return _listed(Funding.objects.filter(not_withdrawn(viewer), public=True)).order_by(*FEED_ORDER)


def public_feed_page(
    *, viewer: Account | None, limit: int, offset: int
) -> list[Funding] | list[FundingCard]:
    fundings = public_feed(viewer=viewer)
    if offset == 0:
        return list(with_author(fundings)[:limit])
    return _cards(fundings.values(*ROW_FIELDS), limit, offset)


def following_feed(*, viewer: Account) -> QuerySet[Funding]:
    """Fundings by accounts the viewer follows: public ones, friends-only ones of friends."""
    # visible_fundings(viewer) among followees, as joins rather than subqueries: the viewer's
    # follow of the author is one row (unique per pair), whose `mutual` says "friend", so it
    # is joined once and read for both tests. The viewer is never among its followees.
    # tests/test_feed_rules.py checks that the two rules agree.
    fundings = Funding.objects.filter(
        Q(public=True) | Q(author__followers__mutual=True),
        author__followers__follower=viewer,
    )
    if not is_staff(viewer):
        fundings = fundings.filter(author__is_active=True, is_hidden=False)
    return _listed(fundings).order_by(*FEED_ORDER)


def following_feed_page(*, viewer: Account, limit: int, offset: int) -> list[FundingCard]:
    return _cards(following_feed(viewer=viewer).values(*ROW_FIELDS), limit, offset)


def feed_account(*, viewer: Account, account_id: str) -> Account:
    """The account whose fundings `/funding/user` lists (deactivated ones only for staff),
    with whether it is the viewer's friend (`is_friend`), so that user_feed tests the
    friendship once rather than on every funding row."""
    accounts = Account.objects.all() if viewer.is_staff else Account.objects.filter(is_active=True)
    try:
        return (
            accounts.only("id")
            .annotate(is_friend=is_friend(viewer.pk, OuterRef("id")))
            .get(pk=str(account_id))
        )
    except Account.DoesNotExist as exc:
        raise NotFound("Account not found.") from exc


def user_feed(*, viewer: Account, author: Account) -> QuerySet[Funding]:
    """One account's fundings: all of them for itself and its friends, else public ones.

    `author` comes from feed_account.
    """
    fundings = Funding.objects.filter(not_withdrawn(viewer), author=author)
    if not (author.pk == viewer.pk or author.is_friend):
        fundings = fundings.filter(public=True)
    return _listed(fundings).order_by(*FEED_ORDER)


def user_feed_page(
    *, viewer: Account, author: Account, limit: int, offset: int
) -> list[FundingCard]:
    return _cards(user_feed(viewer=viewer, author=author).values(*ROW_FIELDS), limit, offset)


def joined_feed_page(*, viewer: Account, limit: int, offset: int) -> list[FundingCard]:
    """Fundings the viewer holds a non-refunded contribution in, each once, latest first."""
    # values() before annotate(): the Max groups by the narrow ROW_FIELDS, not every column.
    rows = (
        _listed(visible_fundings(viewer))
        .values(*ROW_FIELDS)
        # One filter() call: both conditions apply to the same contribution row, and the
        # Max below aggregates over exactly those rows.
        .filter(contributions__contributor=viewer, contributions__refunded_on__isnull=True)
        .annotate(last_contributed_on=Max("contributions__created_on"))
        .order_by("-last_contributed_on", "-id")
    )
    return _cards(rows, limit, offset)

"""Reads with rules. The one home of "which fundings may this viewer see"."""

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from accounts.models import Account, Follow
from fundings.models import Funding, FundingState
from funsun.api.errors import NotFound

# Feeds are newest first; `id` breaks ties between rows created in the same instant.
FEED_ORDER = ("-created_on", "-id")


def friend_ids(viewer: Account) -> QuerySet:
    """Ids of the viewer's friends: accounts the viewer follows that follow the viewer back."""
    # Two index lookups on the follow table; going through `followee__following` would
    # join the account table for nothing (a sequential scan of every account).
    followers = Follow.objects.filter(followee=viewer).values("follower_id")
    return Follow.objects.filter(follower=viewer, followee_id__in=followers).values("followee_id")


def visible_fundings(viewer: Account | None) -> QuerySet[Funding]:
    """Every funding `viewer` may see (None or an anonymous user: public ones only).

    Public fundings are visible to everyone, friends-only ones to their author and the
    author's friends (mutual followers). Fundings hidden by an operator, or whose author is
    deactivated, are visible to staff only.
    """
    fundings = Funding.objects.all()
    authenticated = viewer is not None and viewer.is_authenticated
    if not (authenticated and viewer.is_staff):
        fundings = fundings.filter(is_hidden=False, author__is_active=True)
    if not authenticated:
        return fundings.filter(public=True)
    return fundings.filter(Q(public=True) | Q(author=viewer) | _author_is_friend_of(viewer))


def _author_is_friend_of(viewer: Account) -> Q:
    """The funding's author and `viewer` follow each other: two probes of `follow_once`.

    The same rule as friend_ids(viewer), written per row: PostgreSQL plans `author IN
    (friend_ids)` as a hashed subplan whose start-up cost it charges to every index probe of
    a nested loop, and then prefers scanning the whole funding table (joined feed, detail).
    """
    author = OuterRef("author_id")
    return Q(
        Exists(Follow.objects.filter(follower=viewer, followee_id=author)),
        Exists(Follow.objects.filter(follower_id=author, followee=viewer)),
    )


def funding_for_viewer(*, viewer: Account | None, funding_id: int) -> Funding:
    """One funding with its author, or NotFound when it does not exist or is not visible.

    Canceled fundings stay readable here (the app may still hold a link to one).
    """
    try:
        return visible_fundings(viewer).select_related("author").get(pk=funding_id)
    except Funding.DoesNotExist as exc:
        raise NotFound("Funding not found.") from exc


def _feed(fundings: QuerySet[Funding]) -> QuerySet[Funding]:
    """What every feed shares: no canceled fundings, the author in the same query."""
    return fundings.exclude(state=FundingState.CANCELED).select_related("author")


def public_feed(*, viewer: Account | None) -> QuerySet[Funding]:
    """Public fundings only (also for signed-in viewers), newest first."""
    return _feed(visible_fundings(viewer).filter(public=True)).order_by(*FEED_ORDER)


def following_feed(*, viewer: Account) -> QuerySet[Funding]:
    """Fundings by accounts the viewer follows: public ones, friends-only ones of friends."""
    followees = Follow.objects.filter(follower=viewer).values("followee_id")
    return _feed(visible_fundings(viewer).filter(author__in=followees)).order_by(*FEED_ORDER)


def feed_account(*, viewer: Account, account_id: str) -> Account:
    """The account whose fundings `/funding/user` lists; deactivated ones only for staff."""
    accounts = Account.objects.all()
    if not viewer.is_staff:
        accounts = accounts.filter(is_active=True)
    try:
        return accounts.only("id").get(pk=account_id)
    except Account.DoesNotExist as exc:
        raise NotFound("Account not found.") from exc


def user_feed(*, viewer: Account, author: Account) -> QuerySet[Funding]:
    """One account's fundings: all of them for itself and its friends, else public ones."""
    return _feed(visible_fundings(viewer).filter(author=author)).order_by(*FEED_ORDER)


def joined_feed(*, viewer: Account) -> QuerySet[Funding]:
    """Fundings the viewer holds a non-refunded contribution in, each once, latest first."""
    return (
        _feed(visible_fundings(viewer))
        # One filter() call: both conditions apply to the same contribution row, and the
        # Max below aggregates over exactly those rows.
        .filter(contributions__contributor=viewer, contributions__refunded_on__isnull=True)
        .annotate(last_contributed_on=Max("contributions__created_on"))
        .order_by("-last_contributed_on", "-id")
    )

"""Who may see which funding: the rule every read of a funding goes through.

Public fundings are visible to everyone, friends-only ones to their author and the
author's friends (accounts that follow each other). Fundings hidden by an operator, or
whose author is deactivated, are visible to staff only.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Account, Follow
from fundings.models import Funding
from funsun.api.errors import NotFound

# What a Funding renders (fundings.serializers.fundings.funding_data): not the account's
# password hash and other private columns, nor the funding's moderation and edit times.
FUNDING_FIELDS = (
    "id",
    "title",
    "content",
    "goal_amount",
    "current_amount",
    "image",
    "expire_on",
    "created_on",
    "public",
    "review",
    "review_image",
    "state",
    "author_id",
    "author__id",
    "author__username",
    "author__image",
)


def is_friend(viewer, account) -> Exists:
    """`viewer` and `account` follow each other; each an account id or an expression
    (OuterRef). One row's flag: `Follow.mutual` is kept by the follow services."""
    return Exists(Follow.objects.filter(follower_id=viewer, followee_id=account, mutual=True))


def friend_ids(viewer: Account) -> QuerySet:
    """Ids of the viewer's friends: accounts the viewer follows that follow the viewer back."""
    return Follow.objects.filter(follower=viewer, mutual=True).values("followee_id")


def is_staff(viewer: Account | None) -> bool:
    return viewer is not None and viewer.is_authenticated and viewer.is_staff


def not_withdrawn(viewer: Account | None) -> Q:
    """Fundings hidden by an operator, or whose author is deactivated: staff only."""
    # The author as a join (one row a funding), not a subquery: a fraction of the CPU to
    # build, and both databases walk the feeds' indexes with it (bench/RESULTS.md).
    return Q() if is_staff(viewer) else Q(author__is_active=True, is_hidden=False)


def author_is_friend_of(viewer: Account) -> Q:
    """The funding's author and `viewer` follow each other.

    The same rule as friend_ids(viewer), written per row: PostgreSQL plans `author IN
    (friend_ids)` as a hashed subplan and then prefers scanning the whole funding table.
    """
    return Q(is_friend(viewer.pk, OuterRef("author_id")))


def visible_fundings(viewer: Account | None) -> QuerySet[Funding]:
    """Every funding `viewer` may see (None or an anonymous user: public ones only)."""
    if viewer is None or not viewer.is_authenticated:
        return Funding.objects.filter(not_withdrawn(viewer), public=True)
    return Funding.objects.filter(
        not_withdrawn(viewer), Q(public=True) | Q(author=viewer) | author_is_friend_of(viewer)
    )


# What may_see reads of a funding and its author.
RULE_FIELDS = ("id", "public", "is_hidden", "author_id", "author__id", "author__is_active")


def may_see(viewer: Account | None, funding: Funding) -> bool:
    """visible_fundings' rule for one funding already read with its author (RULE_FIELDS):
    what a read by id asks. A query only for a friends-only funding of someone else: the
    friendship. tests/test_feed_rules.py checks that it and visible_fundings agree."""
    withdrawn = funding.is_hidden or not funding.author.is_active
    if withdrawn and not is_staff(viewer):
        return False
    if funding.public:
        return True
    if viewer is None or not viewer.is_authenticated:
        return False
    return (
        funding.author_id == viewer.pk
        or friend_ids(viewer).filter(followee_id=funding.author_id).exists()
    )


def viewers_among(funding: Funding, accounts: QuerySet[Account]) -> QuerySet[Account]:
    """Those of `accounts` who may see `funding` (read with RULE_FIELDS): may_see's rule
    asked of many viewers in one query, as a notification to a funding's audience asks it.
    tests/test_feed_rules.py checks that it and visible_fundings agree."""
    if funding.is_hidden or not funding.author.is_active:
        accounts = accounts.filter(is_staff=True)
    if funding.public:
        return accounts
    return accounts.filter(
        Q(pk=funding.author_id) | Q(is_friend(OuterRef("pk"), funding.author_id))
    )


def _visible_one(fundings: QuerySet[Funding], viewer: Account | None, funding_id: int) -> Funding:
    # A read by id loads the row by its key and asks the rule of that row: a fraction of the
    # CPU of building and compiling the rule as a subquery (bench/RESULTS.md), and one
    # statement for a public funding.
    try:
        funding = fundings.get(pk=funding_id)
    except Funding.DoesNotExist as exc:
        raise NotFound("Funding not found.") from exc
    if not may_see(viewer, funding):
        raise NotFound("Funding not found.")
    return funding


def funding_for_viewer(*, viewer: Account | None, funding_id: int) -> Funding:
    """One funding with its author, or NotFound when it does not exist or is not visible.

    Canceled fundings stay readable here (the app may still hold a link to one).
    """
    return _visible_one(Funding.objects.select_related("author"), viewer, funding_id)


def funding_detail(*, viewer: Account | None, funding_id: int) -> Funding:
    """funding_for_viewer with only the columns GET /funding/ renders."""
    fundings = Funding.objects.select_related("author").only(*FUNDING_FIELDS, *RULE_FIELDS)
    return _visible_one(fundings, viewer, funding_id)


def funding_rule_row(*, viewer: Account | None, funding_id: int) -> Funding:
    """funding_for_viewer with only what the rule reads (and the author's id)."""
    fundings = Funding.objects.select_related("author").only(*RULE_FIELDS)
    return _visible_one(fundings, viewer, funding_id)


def with_author(fundings: QuerySet[Funding]) -> QuerySet[Funding]:
    return fundings.select_related("author").only(*FUNDING_FIELDS)

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


def funding_for_viewer(*, viewer: Account | None, funding_id: int) -> Funding:
    """One funding with its author, or NotFound when it does not exist or is not visible.

    Canceled fundings stay readable here (the app may still hold a link to one).
    """
    try:
        return visible_fundings(viewer).select_related("author").get(pk=funding_id)
    except Funding.DoesNotExist as exc:
        raise NotFound("Funding not found.") from exc


def funding_detail(*, viewer: Account | None, funding_id: int) -> Funding:
    """funding_for_viewer with only the columns GET /funding/ renders."""
    try:
        return with_author(visible_fundings(viewer)).get(pk=funding_id)
    except Funding.DoesNotExist as exc:
        raise NotFound("Funding not found.") from exc


def with_author(fundings: QuerySet[Funding]) -> QuerySet[Funding]:
    return fundings.select_related("author").only(*FUNDING_FIELDS)

"""Reads with rules. The one home of "which fundings may this viewer see"."""

from django.db.models import Q, QuerySet

from accounts.models import Account, Follow
from fundings.models import Funding


def friend_ids(viewer: Account) -> QuerySet:
    """Ids of the viewer's friends: accounts the viewer follows that follow the viewer back."""
    return Follow.objects.filter(follower=viewer, followee__following__followee=viewer).values(
        "followee_id"
    )


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
    return fundings.filter(Q(public=True) | Q(author=viewer) | Q(author__in=friend_ids(viewer)))

"""Reads with rules about accounts and follows.

The rule they share: a deactivated account is gone for everyone else. It is not found by
id, not listed in searches and has no follows (deactivation deletes them).
"""

from django.db.models import QuerySet

from accounts.models import Account, Follow
from funsun.api.errors import NotFound

# The follow lists answer at most this many profiles when the app asks without `page`.
UNPAGED_FOLLOW_LIST_LIMIT = 100
# What a Profile renders (accounts.serializers.profile_data): lists load nothing else.
PROFILE_FIELDS = ("id", "username", "birthday", "image", "follower_count", "followee_count")
# Every column but the password hash: what request.user and get_active_account load. No API
# view reads the hash off them (signing in loads its own account), and save() leaves it alone.
LOADED_FIELDS = tuple(f.attname for f in Account._meta.concrete_fields if f.name != "password")


def active_accounts() -> QuerySet[Account]:
    return Account.objects.filter(is_active=True)


def get_active_account(account_id: str) -> Account:
    """The active account with this id, or NotFound (404) for unknown and deactivated ones.

    Every column but the password hash (LOADED_FIELDS), like request.user.
    """
    try:
        return active_accounts().only(*LOADED_FIELDS).get(pk=str(account_id))
    except Account.DoesNotExist as exc:
        raise NotFound("No such account.") from exc


def search_accounts(*, username: str) -> QuerySet[Account]:
    """Active accounts whose username contains `username` (case-insensitive), stable order."""
    # UPPER(username) LIKE UPPER('%...%'): a trigram index serves it on PostgreSQL
    # (accounts migration 0002); SQLite walks the username index until the page is full.
    return (
        active_accounts()
        .filter(username__icontains=username)
        .only(*PROFILE_FIELDS)
        .order_by("username", "id")
    )


def followers_of(account_id: str) -> QuerySet[Account]:
    """Accounts that follow `account_id`, most recent follow first (404 if it is not active)."""
    account = get_active_account(account_id)
    return (
        active_accounts()
        .filter(following__followee=account)
        .only(*PROFILE_FIELDS)
        .order_by("-following__created_on", "-following__id")
    )


def followees_of(account_id: str) -> QuerySet[Account]:
    """Accounts `account_id` follows, most recent follow first (404 if it is not active)."""
    account = get_active_account(account_id)
    return (
        active_accounts()
        .filter(followers__follower=account)
        .only(*PROFILE_FIELDS)
        .order_by("-followers__created_on", "-followers__id")
    )


def is_following(*, follower_id: str, followee_id: str) -> bool:
    return Follow.objects.filter(
        follower_id=str(follower_id),
        followee_id=str(followee_id),
        follower__is_active=True,
        followee__is_active=True,
    ).exists()

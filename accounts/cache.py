"""The account behind a token, kept in Django's cache by id (the `accounts` cache).

Every authenticated request needs its account, and loading it by key cost more than any
other single step of a cheap read (bench/RESULTS.md). So authentication reads it from the
cache, and every change to an account row drops its entry, when it is made and again when
it commits: `save()` and `delete()` through the signals below (the services, the admin,
sign-in's last_login), and the services' queryset updates through `forget_accounts`.

The cache is one that every process of the deployment reads (settings, "The account
behind a token"): Redis, or without Redis (one machine) files on this machine. A
per-process memory would keep a deactivated account alive in the processes that did not
deactivate it.

Authentication reads before the view opens any transaction (there is no ATOMIC_REQUESTS),
so what it stores has committed. One race is left, bounded by ACCOUNT_CACHE_SECONDS: a
request that read the row just before a change committed can store that older row just
after the commit dropped the entry.
"""

import django
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Account
from accounts.selectors import LOADED_FIELDS


def _cache():
    return caches["accounts"]


def _key(account_id: str) -> str:
    # Django's version in the key: a pickled model is read back by the version that wrote
    # it only (another warns), and a shared cache outlives a deployment's upgrade.
    return f"account:{django.get_version()}:{account_id}"


def load_account(account_id: str) -> Account | None:
    """The account with this id (any state), without its password hash, in one query."""
    # get(), not first(): no ORDER BY to build.
    try:
        return Account.objects.only(*LOADED_FIELDS).get(pk=account_id)
    except Account.DoesNotExist:
        return None


def cached_account(account_id: str) -> Account | None:
    """load_account, through the cache: a fresh instance each call, never shared."""
    account_id = str(account_id)
    account = _cache().get(_key(account_id))
    if account is None:
        account = load_account(account_id)
        if account is not None and settings.ACCOUNT_CACHE_SECONDS > 0:
            _cache().set(_key(account_id), account, settings.ACCOUNT_CACHE_SECONDS)
    return account


def forget_accounts(*account_ids: str) -> None:
    """Drop these accounts' entries now and again once the current transaction commits.
    Call it beside every queryset update of Account rows; save() and delete() call it
    through the signals."""
    keys = [_key(str(pk)) for pk in account_ids]
    if not keys:
        return
    # Now, so that this process's own requests after the change never see the old row; at
    # the commit, because another request may store the old row between the two.
    _cache().delete_many(keys)
    # robust: the change has committed; a cache that fails here leaves an entry that
    # lapses by itself, and the request that made the change still answers.
    transaction.on_commit(lambda: _cache().delete_many(keys), robust=True)


@receiver(post_save, sender=Account, dispatch_uid="accounts.cache.saved")
@receiver(post_delete, sender=Account, dispatch_uid="accounts.cache.deleted")
def _account_changed(sender, instance: Account, **kwargs) -> None:
    forget_accounts(instance.pk)

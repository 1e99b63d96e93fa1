"""The account behind a token comes from the accounts' cache (accounts/cache.py), and every
change to the account shows on the next request, in every process."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache

from accounts import cache as account_cache
from accounts import services
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for, warm

pytestmark = pytest.mark.django_db


def own_profile(client):
    response = client.post("/account/")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_clients_first_request_loads_the_account_and_the_next_ones_do_not(
    django_assert_num_queries,
):
    client = client_for(AccountFactory())
    with django_assert_num_queries(1):
        own_profile(client)
    with django_assert_num_queries(0):
        own_profile(client)


def test_with_no_lifetime_every_request_loads_the_account(settings, django_assert_num_queries):
    settings.ACCOUNT_CACHE_SECONDS = 0
    client = client_for(AccountFactory())
    for _ in range(2):
        with django_assert_num_queries(1):
            own_profile(client)


def test_a_profile_change_shows_on_the_next_request():
    me = AccountFactory(username="before")
    client = warm(client_for(me))
    assert client.put("/account/", {"username": "after"}).status_code == 200
    assert own_profile(client)["username"] == "after"


def test_follow_counters_show_on_the_next_request():
    me, other = AccountFactory(), AccountFactory()
    mine, theirs = warm(client_for(me)), warm(client_for(other))
    assert mine.post("/follow/", {"id": other.pk}).status_code == 201
    assert own_profile(mine)["followee"] == 1
    assert own_profile(theirs)["follower"] == 1
    assert mine.delete("/follow/", {"id": other.pk}).status_code == 200
    assert own_profile(mine)["followee"] == 0
    assert own_profile(theirs)["follower"] == 0


def test_staff_rights_saved_as_the_admin_does_apply_on_the_next_request():
    hidden = FundingFactory(is_hidden=True)
    me = AccountFactory()
    client = warm(client_for(me))
    assert client.get("/funding/", {"id": hidden.pk}).status_code == 404
    me.is_staff = True
    me.save()
    assert client.get("/funding/", {"id": hidden.pk}).status_code == 200


def test_a_deleted_account_is_refused_on_the_next_request():
    me = AccountFactory()
    client = warm(client_for(me))
    me.delete()
    assert client.post("/account/").status_code == 401


def test_the_entry_is_dropped_again_when_the_deactivation_commits(
    django_capture_on_commit_callbacks,
):
    """A request that read the row before the deactivation committed may store it after
    the deactivation dropped the entry: the commit drops it again."""
    me = AccountFactory()
    client = warm(client_for(me))
    stale = account_cache.load_account(me.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.deactivate_account(account=me)
        caches["accounts"].set(account_cache._key(me.pk), stale)
    assert callbacks
    response = client.post("/account/")
    assert response.status_code == 401
    assert response.json() == {"detail": "This account has been deactivated."}


def test_the_cache_is_one_for_every_process():
    """Not a memory of each process: files on this machine, or Redis. Another process's
    handle on it sees what this one stored, and sees it dropped."""
    assert isinstance(caches["accounts"], FileBasedCache | RedisCache)
    me = AccountFactory()
    client = warm(client_for(me))
    another_process = caches.create_connection("accounts")
    key = account_cache._key(me.pk)
    assert another_process.get(key).pk == me.pk
    me.username = "renamed"
    me.save(update_fields=["username"])
    assert another_process.get(key) is None
    assert own_profile(client)["username"] == "renamed"
    assert another_process.get(key).username == "renamed"

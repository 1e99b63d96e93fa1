"""/follow/: follow, unfollow, the two lists and "does A follow B", with exact counters."""

import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection

from accounts.models import Account, Follow
from tests.factories import AccountFactory, FollowFactory
from tests.helpers import client_for, warm

pytestmark = pytest.mark.django_db
URL = "/follow/"


def counts(account) -> tuple[int, int]:
    account.refresh_from_db()
    return account.follower_count, account.followee_count


def unfollow(client, account_id):
    return client.delete(URL, f"id={account_id}", content_type="application/x-www-form-urlencoded")


def assert_counters_match_rows():
    for account in Account.objects.all():
        assert account.follower_count == Follow.objects.filter(followee=account).count(), account
        assert account.followee_count == Follow.objects.filter(follower=account).count(), account


# --- follow -------------------------------------------------------------------------------


def test_follow_creates_the_row_and_counts_it(account, auth_api):
    other = AccountFactory()

    response = auth_api.post(URL, {"id": other.pk})

    assert response.status_code == 201
    assert response.json() == {"detail": True}
    assert Follow.objects.filter(follower=account, followee=other).exists()
    assert counts(account) == (0, 1)
    assert counts(other) == (1, 0)


def test_follow_takes_a_json_number_as_id(auth_api):
    other = AccountFactory(id="4123456789012345678")

    response = auth_api.post(URL, {"id": 4123456789012345678}, format="json")

    assert response.status_code == 201
    assert counts(other) == (1, 0)


def test_following_twice_is_400_already_follow_and_counts_once(account, auth_api):
    other = AccountFactory()
    auth_api.post(URL, {"id": other.pk})

    response = auth_api.post(URL, {"id": other.pk})

    assert response.status_code == 400
    assert response.json() == {"detail": "already follow"}
    assert Follow.objects.count() == 1
    assert counts(account) == (0, 1)
    assert counts(other) == (1, 0)


def test_following_yourself_is_400(account, auth_api):
    response = auth_api.post(URL, {"id": account.pk})

    assert response.status_code == 400
    assert response.json() == {"detail": "You cannot follow yourself."}
    assert counts(account) == (0, 0)


def test_following_an_unknown_or_deactivated_account_is_404(account, auth_api):
    gone = AccountFactory(is_active=False)

    assert auth_api.post(URL, {"id": "nobody"}).status_code == 404
    response = auth_api.post(URL, {"id": gone.pk})
    assert response.status_code == 404
    assert response.json() == {"detail": "No such account."}
    assert not Follow.objects.exists()
    assert counts(account) == (0, 0)


def test_follow_without_id_is_400(auth_api):
    response = auth_api.post(URL, {})
    assert response.status_code == 400
    assert "id" in response.json()


# --- unfollow -----------------------------------------------------------------------------


def test_unfollow_deletes_the_row_and_the_counts(account, auth_api):
    other = AccountFactory()
    auth_api.post(URL, {"id": other.pk})

    response = unfollow(auth_api, other.pk)

    assert response.status_code == 200
    assert response.json() == {"detail": False}
    assert not Follow.objects.exists()
    assert counts(account) == (0, 0)
    assert counts(other) == (0, 0)


@pytest.mark.parametrize("target", ["not-followed", "unknown"])
def test_unfollow_when_not_following_is_200_and_changes_nothing(account, auth_api, target):
    other = AccountFactory()
    fan = AccountFactory()
    client_for(fan).post(URL, {"id": other.pk})

    response = unfollow(auth_api, other.pk if target == "not-followed" else "nobody")

    assert response.status_code == 200
    assert counts(other) == (1, 0)
    assert counts(account) == (0, 0)
    assert Follow.objects.count() == 1


def test_unfollow_without_id_is_400(auth_api):
    response = auth_api.delete(URL, "", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


# --- lists and the check ------------------------------------------------------------------


def test_lists_of_followers_and_followees_newest_first(account, auth_api):
    a, b, c = AccountFactory(), AccountFactory(), AccountFactory()
    for fan in (a, b):
        client_for(fan).post(URL, {"id": account.pk})
    auth_api.post(URL, {"id": c.pk})
    auth_api.post(URL, {"id": a.pk})

    followers = auth_api.get(URL, {"follower": account.pk})
    followees = auth_api.get(URL, {"followee": account.pk})

    assert followers.status_code == 200
    assert [p["id"] for p in followers.json()] == [b.pk, a.pk]
    assert [p["id"] for p in followees.json()] == [a.pk, c.pk]
    profile = followees.json()[0]
    assert profile == {
        "id": a.pk,
        "email": "",
        "username": a.username,
        "birthday": None,
        "image": None,
        "follower": 1,
        "followee": 1,
    }


def test_the_check_says_whether_a_follows_b(account, auth_api):
    other = AccountFactory()
    auth_api.post(URL, {"id": other.pk})

    yes = auth_api.get(URL, {"follower": account.pk, "followee": other.pk})
    no = auth_api.get(URL, {"follower": other.pk, "followee": account.pk})
    unknown = auth_api.get(URL, {"follower": "nobody", "followee": other.pk})

    assert yes.json() == {"detail": True}
    assert no.json() == {"detail": False}
    assert unknown.json() == {"detail": False}


def test_lists_page_by_8_and_answer_204_past_the_end(account, auth_api):
    fans = AccountFactory.create_batch(10)
    for fan in fans:
        FollowFactory(follower=fan, followee=account)

    first = auth_api.get(URL, {"follower": account.pk, "page": 1})
    second = auth_api.get(URL, {"follower": account.pk, "page": 2})
    past = auth_api.get(URL, {"follower": account.pk, "page": 3})

    assert len(first.json()) == 8
    assert len(second.json()) == 2
    assert {p["id"] for p in first.json() + second.json()} == {f.pk for f in fans}
    assert past.status_code == 204
    assert past.content == b""


def test_lists_without_page_answer_the_first_100(account, auth_api):
    fans = Account.objects.bulk_create(
        Account(id=f"fan{n:03d}", username=f"fan{n}", email=None) for n in range(101)
    )
    Follow.objects.bulk_create(Follow(follower=fan, followee=account) for fan in fans)

    response = auth_api.get(URL, {"follower": account.pk})

    assert response.status_code == 200
    assert len(response.json()) == 100


def test_an_empty_list_without_page_is_an_empty_array(account, auth_api):
    response = auth_api.get(URL, {"followee": account.pk})
    assert response.status_code == 200
    assert response.json() == []


def test_lists_of_an_unknown_or_deactivated_account_are_404(auth_api):
    gone = AccountFactory(is_active=False)
    assert auth_api.get(URL, {"follower": "nobody"}).status_code == 404
    assert auth_api.get(URL, {"followee": gone.pk}).status_code == 404


def test_list_without_parameters_is_400(auth_api):
    response = auth_api.get(URL)
    assert response.status_code == 400
    assert response.json() == {"detail": "Give follower, followee or both."}


@pytest.mark.parametrize("paged", [False, True])
@pytest.mark.parametrize("direction", ["follower", "followee"])
def test_list_query_count_is_constant(
    account, auth_api, django_assert_num_queries, direction, paged
):
    one, eight = AccountFactory(), AccountFactory()
    for target, size in ((one, 1), (eight, 8)):
        for other in AccountFactory.create_batch(size):
            pair = (other, target) if direction == "follower" else (target, other)
            FollowFactory(follower=pair[0], followee=pair[1])
    page = {"page": 1} if paged else {}
    warm(auth_api)

    # The account's existence, the page of profiles (the caller's account: the cache).
    with django_assert_num_queries(2):
        assert len(auth_api.get(URL, {direction: one.pk, **page}).json()) == 1
    with django_assert_num_queries(2):
        assert len(auth_api.get(URL, {direction: eight.pk, **page}).json()) == 8


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_follow_routes_need_authentication(api, method):
    assert getattr(api, method)(URL).status_code == 401


# --- concurrency --------------------------------------------------------------------------


def run_in_threads(calls) -> list:
    """Run the calls at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_follow_counts_once():
    follower, followee = AccountFactory(), AccountFactory()
    clients = [client_for(follower) for _ in range(4)]

    results = run_in_threads([lambda c=c: c.post(URL, {"id": followee.pk}) for c in clients])

    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 400, 400, 400], results
    assert all(r.json() == {"detail": "already follow"} for r in results if r.status_code == 400)
    assert counts(follower) == (0, 1)
    assert counts(followee) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_everyone_following_everyone_at_once_keeps_counters_exact():
    people = AccountFactory.create_batch(5)
    clients = {p.pk: client_for(p) for p in people}
    calls = [
        lambda a=a, b=b: clients[a.pk].post(URL, {"id": b.pk})
        for a in people
        for b in people
        if a != b
    ]

    results = run_in_threads(calls)

    assert [r.status_code for r in results] == [201] * len(calls), results
    for person in people:
        assert counts(person) == (4, 4)
    assert_counters_match_rows()
    # Every pair followed each other at once: each row knows it is a friendship.
    assert not Follow.objects.filter(mutual=False).exists()


@pytest.mark.django_db(transaction=True)
def test_following_each_other_at_the_same_moment_makes_friends():
    for _ in range(5):
        a, b = AccountFactory(), AccountFactory()

        results = run_in_threads(
            [
                lambda: client_for(a).post(URL, {"id": b.pk}),
                lambda: client_for(b).post(URL, {"id": a.pk}),
            ]
        )

        assert [r.status_code for r in results] == [201, 201], results
        flags = Follow.objects.filter(follower__in=[a, b]).values_list("mutual", flat=True)
        assert sorted(flags) == [True, True]


# --- friendship (Follow.mutual, read by the visibility rule) --------------------------------


def mutual(follower, followee) -> bool:
    return Follow.objects.get(follower=follower, followee=followee).mutual


def test_a_follow_back_makes_both_rows_mutual_and_an_unfollow_undoes_it(account, auth_api):
    other = AccountFactory()
    auth_api.post(URL, {"id": other.pk})
    assert mutual(account, other) is False

    client_for(other).post(URL, {"id": account.pk})
    assert mutual(account, other) is True
    assert mutual(other, account) is True

    unfollow(auth_api, other.pk)
    assert mutual(other, account) is False

    auth_api.post(URL, {"id": other.pk})
    assert mutual(account, other) is True
    assert mutual(other, account) is True


def test_the_migration_marks_the_follows_made_before_it(account):
    """accounts 0004 fills `mutual` from the rows that were there."""
    migration = importlib.import_module("accounts.migrations.0004_follow_mutual")
    other, fan = AccountFactory(), AccountFactory()
    FollowFactory(follower=account, followee=other)
    FollowFactory(follower=other, followee=account)
    FollowFactory(follower=fan, followee=account)
    Follow.objects.update(mutual=False)

    migration.mark_friends(apps, None)

    assert mutual(account, other) and mutual(other, account)
    assert not mutual(fan, account)

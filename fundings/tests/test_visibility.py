"""Who sees which funding where (docs/PRODUCT.md, "Rules of visibility"), cell by cell.

One author with a public and a friends-only funding; six viewers; four places to look.
"""

import pytest
from rest_framework.test import APIClient

from fundings.models import Funding
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import client_for

VIEWERS = ["author", "friend", "follower", "followee", "stranger", "anonymous"]
KINDS = ["public", "friends_only"]
PLACES = ["detail", "public_feed", "following_feed", "user_feed"]

# Who sees each kind of funding in each place. Anonymous callers get 401 everywhere but the
# public feed (every other place needs a token).
SEEN_BY = {
    ("public", "detail"): {"author", "friend", "follower", "followee", "stranger"},
    ("public", "public_feed"): {
        "author",
        "friend",
        "follower",
        "followee",
        "stranger",
        "anonymous",
    },
    # Only accounts that follow the author; the author does not follow itself.
    ("public", "following_feed"): {"friend", "follower"},
    ("public", "user_feed"): {"author", "friend", "follower", "followee", "stranger"},
    ("friends_only", "detail"): {"author", "friend"},
    ("friends_only", "public_feed"): set(),
    ("friends_only", "following_feed"): {"friend"},
    ("friends_only", "user_feed"): {"author", "friend"},
}
NEEDS_TOKEN = {"detail", "following_feed", "user_feed"}


@pytest.fixture
def world(db):
    author, friend, follower, followee, stranger = AccountFactory.create_batch(5)
    FollowFactory(follower=author, followee=friend)
    FollowFactory(follower=friend, followee=author)
    FollowFactory(follower=follower, followee=author)  # follows the author only
    FollowFactory(follower=author, followee=followee)  # is followed by the author only
    fundings = {
        "public": FundingFactory(author=author, public=True),
        "friends_only": FundingFactory(author=author, public=False),
    }
    accounts = {
        "author": author,
        "friend": friend,
        "follower": follower,
        "followee": followee,
        "stranger": stranger,
    }
    return accounts, fundings


def look(client, place: str, funding: Funding):
    """Whether `funding` shows up in `place`, or the status code when the call is refused."""
    if place == "detail":
        response = client.get("/funding/", {"id": funding.id})
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            return response.status_code
        return response.json()["id"] == funding.id
    url, params = {
        "public_feed": ("/funding/public", {}),
        "following_feed": ("/funding/following", {}),
        "user_feed": ("/funding/user", {"id": funding.author_id}),
    }[place]
    response = client.get(url, params)
    if response.status_code == 204:
        return False
    if response.status_code != 200:
        return response.status_code
    return funding.id in [item["id"] for item in response.json()]


def client_of(viewer: str, accounts: dict):
    if viewer == "anonymous":
        return APIClient()
    return client_for(accounts[viewer])


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_visibility_matrix(world, viewer, kind, place):
    accounts, fundings = world
    outcome = look(client_of(viewer, accounts), place, fundings[kind])
    if viewer == "anonymous" and place in NEEDS_TOKEN:
        assert outcome == 401
    else:
        assert outcome is (viewer in SEEN_BY[(kind, place)])


@pytest.fixture
def staff(db):
    return AccountFactory(is_staff=True)


@pytest.mark.parametrize("place", PLACES)
def test_hidden_funding_vanishes_for_everyone_but_staff(world, staff, place):
    accounts, fundings = world
    funding = fundings["public"]
    FollowFactory(follower=staff, followee=funding.author)
    Funding.objects.filter(pk=funding.pk).update(is_hidden=True)
    for viewer in ["author", "friend", "follower", "stranger"]:
        assert look(client_for(accounts[viewer]), place, funding) is False, viewer
    assert look(client_for(staff), place, funding) is True


@pytest.mark.parametrize("place", PLACES)
def test_fundings_of_a_deactivated_author_vanish(world, place):
    accounts, fundings = world
    type(accounts["author"]).objects.filter(pk=accounts["author"].pk).update(is_active=False)
    for viewer in ["friend", "follower", "stranger"]:
        for funding in fundings.values():
            outcome = look(client_for(accounts[viewer]), place, funding)
            # The user feed of a deactivated account is 404 as a whole.
            assert outcome == (404 if place == "user_feed" else False), (viewer, outcome)


def test_staff_do_not_see_friends_only_fundings_of_strangers_through_the_api(world, staff):
    """Staff see hidden fundings and those of deactivated authors, not others' friendships:
    the admin site is where operators read everything."""
    _, fundings = world
    client = client_for(staff)
    assert look(client, "detail", fundings["friends_only"]) is False
    assert look(client, "detail", fundings["public"]) is True

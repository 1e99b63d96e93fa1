"""A feed page's cards (fundings/selectors/cards.py): the words of each funding come from the
cache once a page has read them, and a page never shows words, amounts, states or authors
older than the database at the time it was asked."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from fundings.models import Funding
from fundings.services.fundings import update_funding
from tests.factories import (
    AccountFactory,
    FollowFactory,
    FundingFactory,
    credited_contribution,
    image_bytes,
)
from tests.helpers import client_for, warm

# The feeds that read their pages as cards, and who reads each (see `world`).
FEEDS = [
    ("/funding/following", 1, "follower"),
    ("/funding/user", 1, "follower"),
    ("/funding/joined", 1, "follower"),
    # Page 1 of the public feed is one query (and kept whole, test_public_feed_cache.py).
    ("/funding/public", 2, "anonymous"),
]


@pytest.fixture
def world(db, settings):
    """Nine public fundings of one author (two pages of the public feed), followed by
    `follower`, who gave to each of them."""
    settings.PUBLIC_FEED_CACHE_SECONDS = 0
    author, follower = AccountFactory(username="before"), AccountFactory()
    FollowFactory(follower=follower, followee=author)
    start = timezone.now() - timedelta(days=1)
    fundings = [
        FundingFactory(author=author, created_on=start + timedelta(seconds=i)) for i in range(9)
    ]
    for funding in fundings:
        credited_contribution(funding, follower, 1_000)
    return {"author": author, "follower": follower, "fundings": fundings}


def reader(world, who) -> APIClient:
    return APIClient() if who == "anonymous" else warm(client_for(world[who]))


def read(world, client, url, page):
    """The page, as the app asks for it (the user feed: the author's fundings)."""
    params = {"id": world["author"].pk} if url.endswith("/user") else {}
    return client.get(url, {**params, "page": page})


def shown(world, client, url, page, funding_id) -> dict:
    response = read(world, client, url, page)
    assert response.status_code == 200, response.content
    [card] = [item for item in response.json() if item["id"] == funding_id]
    return card


def target(world, url) -> Funding:
    """A funding on the page the test reads: the newest (page 1 of following and joined:
    the follower gave to it last), or the oldest (page 2 of the public feed)."""
    return world["fundings"][0] if url == "/funding/public" else world["fundings"][-1]


@pytest.mark.parametrize(("url", "page", "who"), FEEDS)
def test_a_kept_page_reads_no_words(world, url, page, who, django_assert_num_queries):
    client = reader(world, who)
    # The user feed reads the account first (fundings.selectors.feeds.feed_account).
    account = 1 if url.endswith("/user") else 0
    with django_assert_num_queries(account + 2):  # the page's rows, then its words
        first = read(world, client, url, page).json()
    with django_assert_num_queries(account + 1):  # the rows; the words are kept
        assert read(world, client, url, page).json() == first


@pytest.mark.parametrize(("url", "page", "who"), FEEDS)
def test_an_edit_shows_at_once(world, url, page, who):
    client, funding = reader(world, who), target(world, url)
    assert shown(world, client, url, page, funding.pk)["title"] == funding.title
    update_funding(funding=funding, actor=world["author"], title="Changed", content="New text")
    card = shown(world, client, url, page, funding.pk)
    assert (card["title"], card["content"]) == ("Changed", "New text")


@pytest.mark.parametrize(("url", "page", "who"), FEEDS)
def test_an_operators_save_shows_at_once(world, url, page, who):
    client, funding = reader(world, who), target(world, url)
    shown(world, client, url, page, funding.pk)
    funding.refresh_from_db()
    funding.title = "Fixed by an operator"
    funding.save()  # what the admin's change form does
    assert shown(world, client, url, page, funding.pk)["title"] == "Fixed by an operator"


@pytest.mark.parametrize(("url", "page", "who"), FEEDS)
def test_money_and_state_are_never_kept(world, url, page, who):
    """A refund changes the amount without an edit: the page reads it with its rows."""
    client, funding = reader(world, who), target(world, url)
    gift = credited_contribution(funding, AccountFactory(), 5_000)
    assert shown(world, client, url, page, funding.pk)["current_amount"] == 6_000
    giver = client_for(gift.contributor)
    assert giver.delete("/remit/", {"id": gift.pk}, format="json").status_code == 200
    assert shown(world, client, url, page, funding.pk)["current_amount"] == 1_000
    Funding.objects.filter(pk=funding.pk).update(state="achieved")  # as a payout's check does
    assert shown(world, client, url, page, funding.pk)["status"] == "achieved"


@pytest.mark.parametrize(("url", "page", "who"), FEEDS)
def test_the_authors_new_name_and_picture_show_at_once(world, url, page, who):
    client, funding = reader(world, who), target(world, url)
    assert shown(world, client, url, page, funding.pk)["author"]["username"] == "before"
    picture = SimpleUploadedFile("me.png", image_bytes("PNG"), content_type="image/png")
    author = client_for(world["author"])
    response = author.put("/account/", {"username": "after", "image": picture})
    assert response.status_code == 200, response.content
    card = shown(world, client, url, page, funding.pk)
    assert card["author"] == {
        "id": world["author"].pk,
        "username": "after",
        "image": response.json()["image"],
    }


def test_expiry_is_judged_when_the_page_is_read(world, monkeypatch):
    """The words are kept; whether the funding has expired is not (an anonymous reader:
    the page's clock moves, no token's)."""
    funding = target(world, "/funding/public")
    assert shown(world, APIClient(), "/funding/public", 2, funding.pk)["status"] == "open"
    later = funding.expire_on + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert shown(world, APIClient(), "/funding/public", 2, funding.pk)["status"] == "expired"


def test_without_the_cache_every_page_reads_its_words(world, settings, django_assert_num_queries):
    settings.FUNDING_CARD_CACHE_SECONDS = 0
    client = warm(client_for(world["follower"]))
    for _ in range(2):
        with django_assert_num_queries(2):
            assert len(client.get("/funding/following").json()) == 8


def test_cards_render_as_the_detail_does(world):
    """One shape: a card is the Funding object that GET /funding/?id= answers."""
    client = warm(client_for(world["follower"]))
    for _ in range(2):  # read from the database, then from the cache
        page = client.get("/funding/following").json()
        for card in page:
            assert card == client.get("/funding/", {"id": card["id"]}).json()

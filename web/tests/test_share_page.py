"""The share page /f/<id>/, its preview tags and image, under the API's visibility rule."""

import io
from html.parser import HTMLParser

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts.models import Account
from fundings.models import Funding, FundingState
from tests.factories import (
    AccountFactory,
    FollowFactory,
    FundingFactory,
    credited_contribution,
    image_bytes,
)
from web import card
from web.tests.conftest import signed_in

pytestmark = pytest.mark.django_db

TITLE = "엄마 생신 선물 비밀제목"
STORY = "꼭 갖고 싶은 비밀스토리"


class MetaTags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.tags[attrs.get("property") or attrs["name"]] = attrs.get("content", "")


def meta_tags(html: str) -> dict[str, str]:
    parser = MetaTags()
    parser.feed(html)
    return parser.tags


@pytest.fixture
def world():
    author, friend, follower, stranger = AccountFactory.create_batch(4)
    FollowFactory(follower=author, followee=friend)
    FollowFactory(follower=friend, followee=author)
    FollowFactory(follower=follower, followee=author)
    accounts = {"author": author, "friend": friend, "follower": follower, "stranger": stranger}
    fundings = {
        kind: FundingFactory(author=author, public=kind == "public", title=TITLE, content=STORY)
        for kind in ("public", "friends_only")
    }
    return accounts, fundings


def client_of(viewer, accounts) -> Client:
    return Client() if viewer == "anonymous" else signed_in(accounts[viewer])


VIEWERS = ["author", "friend", "follower", "stranger", "anonymous"]
SEES = {"public": set(VIEWERS), "friends_only": {"author", "friend"}}


@pytest.mark.parametrize("kind", ["public", "friends_only"])
@pytest.mark.parametrize("viewer", VIEWERS)
def test_web_visibility_matrix(world, viewer, kind):
    accounts, fundings = world
    funding = fundings[kind]
    response = client_of(viewer, accounts).get(f"/f/{funding.pk}/")
    html = response.content.decode()
    if viewer in SEES[kind]:
        assert response.status_code == 200
        assert TITLE in html and STORY in html
    else:
        assert response.status_code == 404
        assert TITLE not in html and STORY not in html
        assert funding.author.username not in html
        assert "100,000" not in html
    # The preview never describes a friends-only funding, whoever asks.
    tags = meta_tags(html)
    if kind == "friends_only":
        assert TITLE not in str(tags)
        assert tags["og:image"].endswith("/web/card.png")
    else:
        assert tags["og:title"] == TITLE


@pytest.mark.parametrize("withdrawn", ["hidden", "author_deactivated"])
def test_staff_reading_a_withdrawn_public_funding_gets_no_preview(world, withdrawn):
    """Staff may read it, but the preview describes only what anybody may see."""
    funding = world[1]["public"]
    if withdrawn == "hidden":
        Funding.objects.filter(pk=funding.pk).update(is_hidden=True)
    else:
        Account.objects.filter(pk=funding.author_id).update(is_active=False)
    response = signed_in(AccountFactory(is_staff=True)).get(f"/f/{funding.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and STORY in html
    tags = meta_tags(html)
    assert TITLE not in str(tags) and tags["og:image"].endswith("/web/card.png")


def test_the_page_of_a_public_funding_reads_it_once(world):
    funding = world[1]["public"]
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(f"/f/{funding.pk}/").status_code == 200
    assert len([q for q in queries if '"fundings_funding"' in q["sql"].split("WHERE")[0]]) == 1


def test_preview_tags_of_a_public_funding(world, settings):
    settings.PUBLIC_BASE_URL = "https://funsun.example"
    funding = world[1]["public"]
    tags = meta_tags(Client().get(f"/f/{funding.pk}/").content.decode())
    assert tags["og:title"] == TITLE
    assert tags["og:url"] == f"https://funsun.example/f/{funding.pk}/"
    assert tags["og:image"] == f"https://funsun.example/f/{funding.pk}/card.png"
    assert tags["og:site_name"] == "FunSun"
    assert tags["og:locale"] == "ko_KR"
    assert tags["twitter:card"] == "summary_large_image"
    assert "0원 / 100,000원" in tags["og:description"]


def test_the_page_shows_progress_contributors_and_amounts_only_to_whom_the_api_does(world):
    accounts, fundings = world
    funding = fundings["public"]
    giver = AccountFactory(username="기부자")
    credited_contribution(funding, giver, 34_000, message="생일 축하해!")
    public_html = Client().get(f"/f/{funding.pk}/").content.decode()
    assert "34,000원" in public_html  # the collected amount
    assert 'value="34"' in public_html  # the progress bar
    assert "기부자" in public_html and "생일 축하해!" in public_html
    assert '<span class="amount">' not in public_html
    for viewer in (giver, accounts["author"]):
        html = signed_in(viewer).get(f"/f/{funding.pk}/").content.decode()
        assert '<span class="amount">34,000원</span>' in html
    stranger_html = signed_in(accounts["stranger"]).get(f"/f/{funding.pk}/").content.decode()
    assert '<span class="amount">' not in stranger_html


def test_review_is_shown_once_posted(world):
    funding = world[1]["public"]
    Funding.objects.filter(pk=funding.pk).update(review="모두 고마워요 후기")
    assert "모두 고마워요 후기" in Client().get(f"/f/{funding.pk}/").content.decode()


def test_english_when_the_browser_prefers_it(world):
    funding = world[1]["public"]
    response = Client().get(f"/f/{funding.pk}/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "en"
    assert "Friends who joined" in response.content.decode()


@pytest.mark.parametrize("change", ["canceled", "hidden"])
def test_canceled_or_hidden_funding_says_so_without_its_content(world, change):
    accounts, fundings = world
    funding = fundings["public"]
    if change == "canceled":
        Funding.objects.filter(pk=funding.pk).update(state=FundingState.CANCELED)
    else:
        Funding.objects.filter(pk=funding.pk).update(is_hidden=True)
    for client in (Client(), signed_in(accounts["author"])):
        response = client.get(f"/f/{funding.pk}/")
        html = response.content.decode()
        assert response.status_code == 410
        assert TITLE not in html and STORY not in html
        assert ("취소된" if change == "canceled" else "숨겨진") in html
        assert TITLE not in str(meta_tags(html))


def test_unknown_funding_is_the_neutral_page():
    response = Client().get("/f/999999/")
    assert response.status_code == 404
    assert meta_tags(response.content.decode())["og:title"] == "FunSun"


def test_security_headers_of_a_page(world):
    response = Client().get(f"/f/{world[1]['public'].pk}/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_share_url_in_the_api(world, settings, api):
    settings.PUBLIC_BASE_URL = "https://funsun.example"
    funding = world[1]["public"]
    api.force_authenticate(world[0]["stranger"])
    data = api.get("/funding/", {"id": funding.pk}).json()
    assert data["share_url"] == f"https://funsun.example/f/{funding.pk}/"


# --- the share image ---------------------------------------------------------------------


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


def test_card_of_a_public_funding(world):
    funding = world[1]["public"]
    funding.image.save("gift.png", ContentFile(image_bytes(size=(40, 30))))
    response = Client().get(f"/f/{funding.pk}/card.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = decode(response.content)
    assert image.size == (1200, 630)
    assert response.content != card.neutral_card()


@pytest.mark.parametrize("kind", ["friends_only", "hidden", "canceled", "missing"])
def test_card_of_anything_else_is_the_neutral_card(world, kind):
    accounts, fundings = world
    funding = fundings["friends_only" if kind == "friends_only" else "public"]
    if kind == "hidden":
        Funding.objects.filter(pk=funding.pk).update(is_hidden=True)
    if kind == "canceled":
        Funding.objects.filter(pk=funding.pk).update(state=FundingState.CANCELED)
    funding_id = 999999 if kind == "missing" else funding.pk
    # Even the author, signed in, gets the neutral card: previews are copied into chats.
    response = signed_in(accounts["author"]).get(f"/f/{funding_id}/card.png")
    assert response.status_code == 200
    assert decode(response.content).size == (1200, 630)
    assert response.content == card.neutral_card()
    assert TITLE.encode() not in response.content


def test_card_is_cached_until_the_funding_changes(world):
    funding = world[1]["public"]
    client = Client()
    first = client.get(f"/f/{funding.pk}/card.png")
    etag = first["ETag"]
    assert "max-age" in first["Cache-Control"] and "public" in first["Cache-Control"]
    again = client.get(f"/f/{funding.pk}/card.png", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    credited_contribution(funding, amount=50_000)
    changed = client.get(f"/f/{funding.pk}/card.png", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.content != first.content


def test_days_left_or_the_status_and_a_form_only_while_open():
    from datetime import timedelta

    from django.utils import timezone

    giver = AccountFactory()
    open_funding = FundingFactory(expire_on=timezone.now() + timedelta(days=3, hours=1))
    html = signed_in(giver).get(f"/f/{open_funding.pk}/").content.decode()
    assert '<span id="status">3일 남음</span>' in html and 'name="message"' in html
    ended = FundingFactory()
    Funding.objects.filter(pk=ended.pk).update(expire_on=timezone.now() - timedelta(days=1))
    html = signed_in(giver).get(f"/f/{ended.pk}/").content.decode()
    assert '<span id="status">기간 종료</span>' in html and 'name="message"' not in html
    achieved = FundingFactory(goal_amount=10_000)
    credited_contribution(achieved, amount=10_000)
    Funding.objects.filter(pk=achieved.pk).update(state=FundingState.ACHIEVED)
    html = signed_in(giver).get(f"/f/{achieved.pk}/").content.decode()
    assert '<span id="status">목표 달성</span>' in html and 'name="message"' not in html

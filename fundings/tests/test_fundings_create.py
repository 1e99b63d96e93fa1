"""POST /funding/: what the app sends, the limits of docs/PRODUCT.md, and nothing left behind."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fundings.models import Funding
from fundings.tests.conftest import stored_files
from tests.factories import AccountFactory, image_bytes
from tests.helpers import client_for

SEOUL = ZoneInfo("Asia/Seoul")


def wall_time(dt: datetime) -> str:
    """The app's format: Seoul wall time, naive, with milliseconds."""
    return dt.astimezone(SEOUL).replace(tzinfo=None).isoformat(timespec="milliseconds")


def form(**overrides) -> dict:
    data = {
        "title": "에어팟 생일 선물",
        "content": "갖고 싶었던 선물이에요.",
        "goal_amount": "50000",
        "public": "true",
        "expire_on": wall_time(timezone.now() + timedelta(days=30)),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def png(name: str = "gift.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG", (16, 16)), content_type="image/png")


@pytest.fixture
def author(db):
    return AccountFactory(username="앨리스")


def test_create_from_multipart_as_the_app_sends_it(author):
    expire = (
        (timezone.now() + timedelta(days=30))
        .astimezone(SEOUL)
        .replace(hour=17, minute=0, second=0, microsecond=0)
    )
    response = client_for(author).post(
        "/funding/", form(expire_on=wall_time(expire), image=png("../../evil.png"))
    )

    assert response.status_code == 201, response.json()
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    funding = Funding.objects.get()
    assert body["id"] == funding.id
    assert body["title"] == "에어팟 생일 선물"
    assert body["content"] == "갖고 싶었던 선물이에요."
    assert body["goal_amount"] == 50000
    assert body["current_amount"] == 0
    assert body["public"] is True
    assert body["status"] == "open"
    assert body["review"] is None and body["review_image"] is None
    assert body["author"] == {"id": author.id, "username": "앨리스", "image": None}
    # Naive input is Seoul wall time; output carries the +09:00 offset.
    assert body["expire_on"] == expire.isoformat()
    assert body["expire_on"].endswith("T17:00:00+09:00")
    assert funding.expire_on == expire
    assert body["created_on"].endswith("+09:00")
    # Stored under a fresh random name, never the client's.
    assert body["image"].startswith("/media/funding/")
    assert "evil" not in body["image"]
    assert stored_files() == [funding.image.name]


def test_create_from_json_with_bool_and_int_and_aware_expiry(author):
    expire = timezone.now() + timedelta(days=3)
    response = client_for(author).post(
        "/funding/",
        {
            "title": "Friends only",
            "content": "",
            "goal_amount": 1000,
            "public": False,
            "expire_on": expire.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    funding = Funding.objects.get()
    assert funding.public is False
    assert funding.goal_amount == 1000
    assert funding.image.name in (None, "")
    assert response.json()["image"] is None
    assert abs(funding.expire_on - expire) < timedelta(seconds=1)


@pytest.mark.parametrize("goal", ["1000", "10000000"])
def test_goal_limits_are_inclusive(author, goal):
    response = client_for(author).post("/funding/", form(goal_amount=goal))
    assert response.status_code == 201, response.json()
    assert Funding.objects.get().goal_amount == int(goal)


def test_expiry_up_to_the_end_of_the_day_one_year_ahead_is_accepted(author):
    today = timezone.now().astimezone(SEOUL)
    last_day = today.replace(year=today.year + 1, hour=23, minute=59, second=0, microsecond=0)
    response = client_for(author).post("/funding/", form(expire_on=wall_time(last_day)))
    assert response.status_code == 201, response.json()


BAD_INPUTS = [
    ("goal_amount", {"goal_amount": "999"}),
    ("goal_amount", {"goal_amount": "10000001"}),
    ("goal_amount", {"goal_amount": "fifty"}),
    ("expire_on", {"expire_on": "past"}),
    ("expire_on", {"expire_on": "beyond"}),
    ("expire_on", {"expire_on": "2026-13-45T99:00:00"}),
    ("title", {"title": ""}),
    ("title", {"title": "   "}),
    ("title", {"title": "가" * 51}),
    ("content", {"content": "x" * 2001}),
    ("public", {"public": "maybe"}),
    ("public", {"public": None}),
    ("title", {"title": None}),
    ("image", {"image": "text"}),
    ("image", {"image": "fake-png"}),
]


@pytest.mark.parametrize(("field", "overrides"), BAD_INPUTS)
def test_bad_input_is_400_and_creates_nothing(author, field, overrides):
    now = timezone.now()
    special = {
        "past": wall_time(now - timedelta(minutes=1)),
        "beyond": wall_time(now + timedelta(days=367)),
        "text": SimpleUploadedFile("notes.txt", b"just text", content_type="text/plain"),
        "fake-png": SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\nnope", content_type="image/png"),
    }
    overrides = {k: special.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}

    response = client_for(author).post("/funding/", form(**overrides))

    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    assert body["detail"].startswith(f"{field}:")
    assert Funding.objects.count() == 0
    assert stored_files() == []


def test_a_valid_image_with_another_bad_field_leaves_no_file(author):
    response = client_for(author).post("/funding/", form(goal_amount="999", image=png()))
    assert response.status_code == 400
    assert Funding.objects.count() == 0
    assert stored_files() == []


def test_unauthenticated_is_401_and_creates_nothing(api, db):
    response = api.post("/funding/", form())
    assert response.status_code == 401
    assert "detail" in response.json()
    assert Funding.objects.count() == 0


def test_bad_token_is_401(api, db):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api.post("/funding/", form())
    assert response.status_code == 401
    assert Funding.objects.count() == 0


def test_an_image_over_10_mb_is_413_and_creates_nothing(author):
    big = SimpleUploadedFile("big.png", b"\0" * (10 * 1024 * 1024 + 1), content_type="image/png")
    response = client_for(author).post("/funding/", form(image=big))
    assert response.status_code == 413
    assert "detail" in response.json()
    assert Funding.objects.count() == 0
    assert stored_files() == []


def test_public_sent_empty_is_400(author):
    response = client_for(author).post("/funding/", form(public=""))
    assert response.status_code == 400
    assert "public" in response.json()
    assert Funding.objects.count() == 0

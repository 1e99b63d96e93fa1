"""The notification routes: paging, unread count, marking read, settings, devices."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.kinds import Kind
from notifications.models import Device, Notification
from tests.factories import AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def make(recipient, n, **fields):
    start = timezone.now() - timedelta(hours=n)
    return [
        Notification.objects.create(
            recipient=recipient,
            kind=Kind.FOLLOWER,
            event_key=f"account:{i}",
            created_on=start + timedelta(minutes=i),
            **fields,
        )
        for i in range(n)
    ]


@pytest.fixture
def me():
    return AccountFactory()


@pytest.fixture
def client(me):
    return client_for(me)


def test_newest_first_8_a_page_then_204(me, client):
    rows = make(me, 10)
    make(AccountFactory(), 3)  # someone else's
    first = client.get("/notification/").json()
    second = client.get("/notification/?page=2").json()
    assert [n["id"] for n in first] == [r.pk for r in reversed(rows)][:8]
    assert [n["id"] for n in second] == [rows[1].pk, rows[0].pk]
    assert client.get("/notification/?page=3").status_code == 204
    assert set(first[0]) == {"id", "kind", "text", "actor", "funding", "data", "created_on", "read"}


def test_unread_count_and_marking_one_then_all(me, client):
    rows = make(me, 3)
    assert client.get("/notification/unread").json() == {"count": 3}
    assert client.post("/notification/read", {"id": rows[0].pk}).json() == {"marked": 1}
    assert client.post("/notification/read", {"id": rows[0].pk}).json() == {"marked": 0}
    assert client.get("/notification/unread").json() == {"count": 2}
    first_read = Notification.objects.get(pk=rows[0].pk).read_on
    assert client.post("/notification/read").json() == {"marked": 2}
    assert client.post("/notification/read", {}, format="json").json() == {"marked": 0}
    assert client.get("/notification/unread").json() == {"count": 0}
    assert Notification.objects.get(pk=rows[0].pk).read_on == first_read
    assert all(n["read"] for n in client.get("/notification/").json())


def test_marking_someone_elses_or_a_bad_id(me, client):
    [theirs] = make(AccountFactory(), 1)
    response = client.post("/notification/read", {"id": theirs.pk})
    assert response.status_code == 404 and "detail" in response.json()
    assert Notification.objects.get(pk=theirs.pk).read_on is None
    for bad in ("x", "0", "-1"):
        response = client.post("/notification/read", {"id": bad})
        assert response.status_code == 400 and "detail" in response.json()


def test_settings_read_and_change(me, client):
    before = client.get("/notification/settings").json()
    assert before["push"] is True and set(before["kinds"]) == set(Kind.values)
    assert all(before["kinds"].values())
    after = client.put(
        "/notification/settings",
        {"push": False, "kinds": {"friend_birthday": False}},
        format="json",
    ).json()
    assert after["push"] is False and after["kinds"]["friend_birthday"] is False
    assert after["kinds"]["contribution"] is True
    assert client.get("/notification/settings").json() == after


@pytest.mark.parametrize(
    "body",
    [{"kinds": {"nonsense": False}}, {"kinds": {"follower": "maybe"}}, {"push": "x"}, [1]],
)
def test_bad_settings_are_400_and_change_nothing(me, client, body):
    before = client.get("/notification/settings").json()
    response = client.put("/notification/settings", body, format="json")
    assert response.status_code == 400 and "detail" in response.json()
    assert client.get("/notification/settings").json() == before


def test_devices_register_refresh_move_and_remove(me, client):
    response = client.post("/notification/device", {"token": "tok-1", "platform": "ios"})
    assert response.status_code == 201 and response.json()["platform"] == "ios"
    assert client.post("/notification/device", {"token": "tok-1"}).status_code == 201
    assert Device.objects.get().account_id == me.pk
    other = AccountFactory()
    assert client_for(other).post("/notification/device", {"token": "tok-1"}).status_code == 201
    assert Device.objects.get().account_id == other.pk
    assert client.delete("/notification/device", {"token": "tok-1"}).status_code == 204
    assert Device.objects.count() == 1  # not mine any more: left alone
    assert client_for(other).delete("/notification/device", {"token": "tok-1"}).status_code == 204
    assert Device.objects.count() == 0


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "t", "platform": "fax"}])
def test_bad_device_bodies_are_400(client, body):
    response = client.post("/notification/device", body)
    assert response.status_code == 400 and "detail" in response.json()
    assert Device.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/notification/"),
        ("get", "/notification/unread"),
        ("post", "/notification/read"),
        ("get", "/notification/settings"),
        ("put", "/notification/settings"),
        ("post", "/notification/device"),
        ("delete", "/notification/device"),
    ],
)
def test_every_route_needs_a_token(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 401 and "detail" in response.json()


def test_a_token_too_long_is_400(client):
    response = client.post("/notification/device", {"token": "x" * 513})
    assert response.status_code == 400 and "detail" in response.json()
    assert Device.objects.count() == 0

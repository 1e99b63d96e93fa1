"""Push through FCM's HTTP v1 API, against a local server that speaks it and Google's token
exchange (fcm_server.py): what is sent, what FCM's refusals do, retries, quiet hours."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from huey.contrib.djhuey import HUEY
from huey.exceptions import RetryTask

from fundings.models import Contribution
from notifications import push
from notifications.kinds import Kind
from notifications.models import Delivery, Device, PushSetting
from notifications.services import notify_all
from notifications.tasks import send_push
from notifications.tests.conftest import CLIENT_EMAIL
from notifications.tests.fcm_server import AUDIENCE
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

# Real commits: pushes are enqueued when the notification's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)
KST = ZoneInfo("Asia/Seoul")


@pytest.fixture(autouse=True)
def _empty_schedule():
    HUEY.storage.flush_schedule()
    yield
    HUEY.storage.flush_schedule()


@pytest.fixture
def author():
    return AccountFactory(username="author")


def phone(account, token="phone-1"):
    return Device.objects.create(account=account, token=token)


def follower_note(recipient, n=1, now=None):
    """A notification of a new follower (pushed at once), created the real way."""
    return notify_all(
        [recipient.pk],
        kind=Kind.FOLLOWER,
        event_key=f"account:test-{n}",
        actor_id=AccountFactory(username=f"fan{n}").pk,
        now=now,
    )


def test_a_contribution_is_pushed_in_korean_with_the_amount(fcm, sandbox, author):
    phone(author)
    funding = FundingFactory(author=author, title="카메라")
    giver = AccountFactory(username="giver")
    client = client_for(giver)
    pay(client, 10_000)
    body = {"funding": funding.pk, "amount": 10_000, "message": "축하해"}
    assert client.post("/remit/", body, format="json").status_code == 201
    [message] = fcm.sent
    assert message["token"] == "phone-1"
    assert message["notification"]["body"] == "giver님이 '카메라'에 10,000원을 보냈어요: 축하해"
    assert message["data"]["kind"] == "contribution"
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (Delivery.State.SENT, 1)
    assert Contribution.objects.count() == 1


def test_the_bearer_comes_from_a_signed_grant_and_is_reused(fcm, author):
    phone(author)
    follower_note(author, 1)
    follower_note(author, 2)
    assert len(fcm.sent) == 2
    [grant] = fcm.grants  # one token exchange for both sends
    assert grant["iss"] == CLIENT_EMAIL and grant["aud"] == AUDIENCE


@pytest.mark.parametrize("how", ["unregistered", "invalid"])
def test_a_token_fcm_refuses_removes_the_device(fcm, author, how):
    phone(author, "old-phone")
    phone(author, "new-phone")
    fcm.answer("old-phone", how)
    follower_note(author)
    assert list(Device.objects.values_list("token", flat=True)) == ["new-phone"]
    assert [m["token"] for m in fcm.sent] == ["new-phone"]
    states = sorted(Delivery.objects.values_list("state", flat=True))
    assert states == [Delivery.State.DROPPED, Delivery.State.SENT]
    assert HUEY.scheduled() == []


def test_429_is_retried_after_retry_after(fcm, author):
    phone(author)
    fcm.answer("phone-1", "quota")
    fcm.retry_after = "7"
    follower_note(author)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (Delivery.State.PENDING, 1)
    assert "429" in delivery.last_error
    [retry] = HUEY.scheduled()  # the job's retry, 7 seconds on
    assert retry.args == (delivery.notification_id,)
    assert 0 < (retry.eta - datetime.now(UTC).replace(tzinfo=None)).total_seconds() <= 7
    fcm.answer("phone-1", "ok")
    assert push.deliver(delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (Delivery.State.SENT, 2)


def test_5xx_backs_off_then_gives_up(fcm, author):
    phone(author)
    fcm.answer("phone-1", "unavailable")
    follower_note(author)
    delivery = Delivery.objects.get()
    waits = [push.deliver(delivery.pk) for _ in range(push.MAX_ATTEMPTS - 1)]
    assert waits[:3] == [60, 120, 240] and waits[-1] is None  # the first try waited 30 s
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (Delivery.State.FAILED, push.MAX_ATTEMPTS)
    assert push.deliver(delivery.pk) is None  # settled: nothing more is sent
    assert len(fcm.refused) == push.MAX_ATTEMPTS


def test_the_job_asks_huey_to_retry(fcm, author):
    phone(author)
    fcm.answer("phone-1", "quota")
    fcm.retry_after = "3"
    follower_note(author)
    with pytest.raises(RetryTask) as raised:
        send_push.call_local(Delivery.objects.get().notification_id)
    assert raised.value.delay == 3.0


def test_a_silent_fcm_is_given_up_on_and_tried_again(fcm, author, settings):
    phone(author)
    held = fcm.hold("phone-1")
    settings.FCM_TIMEOUT_SECONDS = 0.5  # only this send must give up
    follower_note(author)
    assert held.arrived.is_set()
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.PENDING and "Timeout" in delivery.last_error
    held.released.set()
    del fcm.held["phone-1"]
    settings.FCM_TIMEOUT_SECONDS = 10.0
    assert push.deliver(delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT


def test_quiet_hours_move_reminders_to_eight_in_the_morning():
    night = datetime(2027, 3, 4, 22, 0, tzinfo=KST)
    early = datetime(2027, 3, 5, 7, 59, tzinfo=KST)
    assert push.push_eta(Kind.FRIEND_BIRTHDAY, night) == datetime(2027, 3, 5, 8, 0, tzinfo=KST)
    assert push.push_eta(Kind.EXPIRING, early) == datetime(2027, 3, 5, 8, 0, tzinfo=KST)
    assert push.push_eta(Kind.FRIEND_FUNDING, datetime(2027, 3, 5, 8, 0, tzinfo=KST)) is None
    assert push.push_eta(Kind.FRIEND_FUNDING, datetime(2027, 3, 5, 20, 59, tzinfo=KST)) is None
    assert push.push_eta(Kind.CONTRIBUTION, night) is None  # money goes at once


def test_a_reminder_at_22_kst_is_scheduled_for_8(fcm, author):
    phone(author)
    night = datetime(2027, 3, 4, 22, 0, tzinfo=KST)
    notify_all(
        [author.pk],
        kind=Kind.FRIEND_BIRTHDAY,
        event_key="account:x:2027",
        actor_id=AccountFactory().pk,
        data={"date": "3월 11일"},
        now=night,
    )
    assert fcm.sent == [] and not Delivery.objects.exists()
    [job] = HUEY.scheduled()
    assert job.eta == datetime(2027, 3, 4, 23, 0)  # 08:00 KST in UTC, as huey keeps it
    [note] = author.notifications.all()
    assert job.args == (note.pk,)
    send_push.call_local(note.pk)  # at 08:00
    assert [m["token"] for m in fcm.sent] == ["phone-1"]


def test_no_push_when_turned_off_or_not_configured(fcm, author, settings):
    phone(author)
    PushSetting.objects.create(account=author, enabled=False)
    follower_note(author, 1)
    PushSetting.objects.filter(account=author).update(enabled=True)
    settings.FCM_CREDENTIALS_FILE = ""
    follower_note(author, 2)
    assert Delivery.objects.count() == 0 and fcm.sent == []
    assert author.notifications.count() == 2  # in the app all the same


def test_a_retry_pushes_only_the_phones_still_waiting(fcm, author):
    phone(author, "phone-a")
    phone(author, "phone-b")
    fcm.answer("phone-a", "quota")
    fcm.retry_after = "5"
    follower_note(author)
    assert [m["token"] for m in fcm.sent] == ["phone-b"]
    [retry] = HUEY.scheduled()
    fcm.answer("phone-a", "ok")
    send_push.call_local(*retry.args)  # the retry, run (twice: a replay changes nothing)
    send_push.call_local(*retry.args)
    assert [m["token"] for m in fcm.sent] == ["phone-b", "phone-a"]
    states = set(Delivery.objects.values_list("state", flat=True))
    assert states == {Delivery.State.SENT}

"""Each kind of notification, produced by the real service path (over HTTP where there is
one), exactly once whatever replays happen, and only to whom it may concern."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, Follow
from accounts.signals import followed
from fundings import signals
from fundings.models import Contribution, Funding, Payout
from fundings.services.contributions import refund_contribution_by_operator
from fundings.services.payouts import record_transfer, request_payout
from notifications import reminders
from notifications.kinds import Kind
from notifications.models import Notification, NotificationSetting
from notifications.tests.helpers import notes
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import client_for

# Real commits: pushes leave when the event's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


def remit(client, funding, amount, message="생일 축하해"):
    pay(client, amount)
    response = client.post(
        "/remit/", {"funding": funding.pk, "amount": amount, "message": message}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def friends(a, b):
    FollowFactory(follower=a, followee=b)
    FollowFactory(follower=b, followee=a)


@pytest.fixture
def author():
    return AccountFactory(username="author", bank_account="국민 123-456-789")


@pytest.fixture
def funding(author):
    return FundingFactory(author=author, goal_amount=30_000, title="카메라")


def test_a_contribution_tells_the_author_who_how_much_and_what(sandbox, author, funding):
    giver = AccountFactory(username="giver")
    remit(client_for(giver), funding, 10_000)
    [note] = notes(author)
    assert (note.kind, note.actor_id, note.funding_id) == (Kind.CONTRIBUTION, giver.pk, funding.pk)
    assert note.data == {"amount": 10_000, "message": "생일 축하해"}
    assert notes(giver) == []
    listed = client_for(author).get("/notification/").json()
    assert listed[0]["text"] == "giver님이 '카메라'에 10,000원을 보냈어요: 생일 축하해"
    assert listed[0]["actor"]["id"] == giver.pk


def test_a_replayed_event_notifies_once(sandbox, author, funding):
    remit(client_for(AccountFactory()), funding, 10_000)
    contribution = Contribution.objects.get()
    for _ in range(2):
        signals.contribution_credited.send(Contribution, contribution=contribution)
    assert len(notes(author)) == 1


def test_reaching_the_goal_tells_the_author_and_contributors_without_amounts(
    sandbox, author, funding
):
    first, last = AccountFactory(), AccountFactory()
    remit(client_for(first), funding, 10_000)
    remit(client_for(last), funding, 20_000)
    assert Funding.objects.get(pk=funding.pk).state == "achieved"
    assert [n.kind for n in notes(author)] == [Kind.CONTRIBUTION, Kind.CONTRIBUTION, Kind.ACHIEVED]
    for contributor in (first, last):
        [note] = notes(contributor)
        assert note.kind == Kind.JOINED_ACHIEVED
        assert "amount" not in note.data
    signals.funding_achieved.send(Funding, funding_id=funding.pk)
    assert Notification.objects.filter(kind=Kind.JOINED_ACHIEVED).count() == 2


def test_a_review_tells_the_contributors_once(sandbox, author, funding):
    giver, refunded = AccountFactory(), AccountFactory()
    remit(client_for(giver), funding, 10_000)
    remit(client_for(refunded), funding, 5_000)
    contribution = Contribution.objects.get(contributor=refunded)
    assert client_for(refunded).delete("/remit/", {"id": contribution.pk}).status_code == 200
    client = client_for(author)
    for text in ("고마워요!", "정말 고마워요!"):
        response = client.post("/funding/review", {"id": funding.pk, "review": text})
        assert response.status_code == 200, response.content
    assert [n.kind for n in notes(giver)] == [Kind.REVIEW]
    assert Kind.REVIEW not in [n.kind for n in notes(refunded)]


def test_a_refund_at_the_provider_tells_the_contributor_the_amount(sandbox, author, funding):
    giver = AccountFactory()
    client = client_for(giver)
    remit(client, funding, 7_000)
    contribution = Contribution.objects.get()
    for _ in range(2):
        assert client.delete("/remit/", {"id": contribution.pk}).status_code == 200
    [note] = notes(giver)
    assert (note.kind, note.data) == (Kind.REFUNDED, {"amount": 7_000})


def test_a_cancellation_tells_each_contributor_their_own_amount(sandbox, author, funding):
    one, two = AccountFactory(), AccountFactory()
    remit(client_for(one), funding, 3_000)
    remit(client_for(two), funding, 4_000)
    remit(client_for(two), funding, 1_000)
    client = client_for(author)
    response = client.delete("/funding/", {"id": funding.pk})
    assert response.json() == {"detail": "canceled"}
    assert [(n.kind, n.data) for n in notes(one)] == [(Kind.CANCELED, {"amount": 3_000})]
    assert [(n.kind, n.data) for n in notes(two)] == [(Kind.CANCELED, {"amount": 5_000})]
    body = client_for(one).get("/notification/").json()
    assert "3,000원" in body[0]["text"] and "5,000" not in str(body)


def test_a_transferred_payout_tells_the_author(sandbox, author, funding):
    remit(client_for(AccountFactory()), funding, 30_000)
    payout = request_payout(author=author, funding_id=funding.pk)
    operator = AccountFactory(is_staff=True)
    record_transfer(payout_id=payout.pk, actor=operator, reference="bank-1")
    signals.payout_transferred.send(Payout, payout_id=payout.pk)
    [note] = notes(author, Kind.PAYOUT)
    assert note.data == {"amount": 30_000}


def test_a_friends_only_funding_is_announced_to_friends_only(author):
    friend, fan, stranger = AccountFactory(), AccountFactory(), AccountFactory()
    friends(author, friend)
    FollowFactory(follower=fan, followee=author)  # follows, not followed back
    expire_on = (timezone.now() + timedelta(days=10)).isoformat()
    for public in (False, True):
        response = client_for(author).post(
            "/funding/",
            {"title": "선물", "goal_amount": 10_000, "public": public, "expire_on": expire_on},
        )
        assert response.status_code == 201, response.content
    assert len(notes(friend, Kind.FRIEND_FUNDING)) == 2
    assert notes(fan) == [] and notes(stranger) == []


def test_a_hidden_funding_is_announced_to_nobody(author):
    friend = AccountFactory()
    friends(author, friend)
    funding = FundingFactory(author=author, is_hidden=True)
    signals.funding_opened.send(Funding, funding_id=funding.pk)
    assert notes(friend) == []


def test_announcing_a_funding_reads_its_audience_in_the_same_queries_for_any_number(author):
    def announce() -> int:
        """The queries that read the funding and who may see it (each notification's own
        writes, one recipient at a time, aside)."""
        funding = FundingFactory(author=author, public=False)
        with CaptureQueriesContext(connection) as queries:
            signals.funding_opened.send(Funding, funding_id=funding.pk)
        reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
        return len([sql for sql in reads if "notifications_" not in sql])

    friends(author, AccountFactory())
    few = announce()
    for _ in range(5):
        friends(author, AccountFactory())
    assert announce() == few
    assert Notification.objects.filter(kind=Kind.FRIEND_FUNDING).count() == 1 + 6


def test_a_new_follower_notifies_once_even_after_unfollowing(author):
    fan = AccountFactory(username="fan")
    client = client_for(fan)
    for method in ("post", "delete", "post"):
        assert getattr(client, method)("/follow/", {"id": author.pk}).status_code in (200, 201)
    [note] = notes(author)
    assert (note.kind, note.actor_id) == (Kind.FOLLOWER, fan.pk)
    assert Follow.objects.filter(follower=fan, followee=author).exists()


def test_a_kind_turned_off_creates_nothing(sandbox, author, funding):
    response = client_for(author).put(
        "/notification/settings", {"kinds": {"contribution": False}}, format="json"
    )
    assert response.status_code == 200
    assert NotificationSetting.objects.get(account=author).enabled is False
    remit(client_for(AccountFactory()), funding, 10_000)
    assert notes(author) == []


def test_only_the_events_kind_decides_among_several_settings(author):
    """An account's settings rows of other kinds neither silence nor duplicate this one."""
    fans = {name: AccountFactory() for name in ("none", "off", "on_again", "others_off")}
    NotificationSetting.objects.create(account=fans["off"], kind=Kind.FOLLOWER, enabled=False)
    NotificationSetting.objects.create(account=fans["off"], kind=Kind.REVIEW, enabled=True)
    NotificationSetting.objects.create(account=fans["on_again"], kind=Kind.FOLLOWER, enabled=True)
    NotificationSetting.objects.create(account=fans["on_again"], kind=Kind.REVIEW, enabled=False)
    for kind in (Kind.REVIEW, Kind.REFUNDED, Kind.CONTRIBUTION):
        NotificationSetting.objects.create(account=fans["others_off"], kind=kind, enabled=False)
    for fan in fans.values():
        followed.send(Follow, follower_id=author.pk, followee_id=fan.pk)
    told = {name for name, fan in fans.items() if notes(fan)}
    assert told == {"none", "on_again", "others_off"}
    assert all(len(notes(fans[name])) == 1 for name in told)


def test_expiry_reminders_once_each_however_often_the_job_runs(author):
    now = timezone.now()
    soon = FundingFactory(author=author, expire_on=now + timedelta(hours=5))
    later = FundingFactory(author=author, expire_on=now + timedelta(days=3))
    ended = FundingFactory(author=author, expire_on=now + timedelta(hours=1))
    Funding.objects.filter(pk=ended.pk).update(expire_on=now - timedelta(hours=2))
    assert reminders.notify_expiring(now) == 2
    assert reminders.notify_expiring(now) == 0
    kinds = {(n.kind, n.funding_id) for n in notes(author)}
    assert kinds == {(Kind.EXPIRING, soon.pk), (Kind.EXPIRED, ended.pk)}
    assert later.pk not in {n.funding_id for n in notes(author)}


def test_deactivated_accounts_get_nothing(author):
    fan = AccountFactory()
    Account.objects.filter(pk=author.pk).update(is_active=False)
    followed.send(Follow, follower_id=fan.pk, followee_id=author.pk)
    assert notes(author) == []


def test_a_refund_confirmed_by_a_job_is_announced_once(sandbox, author, funding):
    giver = AccountFactory()
    remit(client_for(giver), funding, 6_000)
    contribution = Contribution.objects.get()
    assert refund_contribution_by_operator(contribution=contribution) is True
    contribution.payment.refresh_from_db()
    assert contribution.payment.state == "refunded"  # the job ran (huey's immediate mode)
    assert notes(giver) == []
    assert reminders.notify_refunds() == 1
    assert reminders.notify_refunds() == 0
    [note] = notes(giver)
    assert (note.kind, note.data) == (Kind.REFUNDED, {"amount": 6_000})

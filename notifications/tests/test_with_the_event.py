"""A notification is written in the transaction of its event: it commits with the event or
not at all, its push leaves only after the commit, and its failure never fails the event."""

import pytest
from django.db import connection, transaction
from huey.contrib.djhuey import HUEY

from accounts.models import Follow
from accounts.services import follow
from fundings.models import Contribution, Funding
from fundings.signals import contribution_credited
from notifications.models import Delivery, Device, Notification
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def test_an_event_rolled_back_leaves_no_notification_and_pushes_nothing(fcm):
    star, fan = AccountFactory(), AccountFactory()
    Device.objects.create(account=star, token="star-phone")
    with pytest.raises(Rollback), transaction.atomic():
        follow(follower=fan, followee_id=star.pk)
        # Written with the follow, inside its transaction; its push waits for the commit...
        assert Notification.objects.filter(recipient=star).count() == 1
        assert HUEY.pending_count() == 0
        raise Rollback
    # ...and gone with it; the push was to leave at the commit, which never came.
    assert not Follow.objects.exists()
    assert not Notification.objects.exists() and not Delivery.objects.exists()
    assert fcm.sent == [] and HUEY.pending_count() == 0

    follow(follower=fan, followee_id=star.pk)
    assert Notification.objects.filter(recipient=star).count() == 1
    assert [m["token"] for m in fcm.sent] == ["star-phone"]
    assert Delivery.objects.get().state == Delivery.State.SENT


@pytest.fixture
def notifications_refused():
    """The database refuses every new notification (a trigger), as a broken table would."""
    if connection.vendor == "postgresql":
        create = [
            "CREATE FUNCTION refuse_notification() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'notifications refused'; END; $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_notification BEFORE INSERT ON notifications_notification "
            "FOR EACH ROW EXECUTE FUNCTION refuse_notification()",
        ]
        drop = [
            "DROP TRIGGER refuse_notification ON notifications_notification",
            "DROP FUNCTION refuse_notification()",
        ]
    else:
        # Not RAISE(): SQLite reports that as a constraint failure, which notify() rightly
        # takes for "made before". A missing table is an error of another kind.
        create = [
            "CREATE TRIGGER refuse_notification BEFORE INSERT ON notifications_notification "
            "BEGIN INSERT INTO notifications_refused VALUES (1); END"
        ]
        drop = ["DROP TRIGGER refuse_notification"]
    with connection.cursor() as cursor:
        for sql in create:
            cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for sql in drop:
            cursor.execute(sql)


def test_a_notification_that_fails_does_not_fail_the_money(sandbox, notifications_refused, caplog):
    author = AccountFactory()
    funding = FundingFactory(author=author, goal_amount=10_000)
    client = client_for(AccountFactory())
    pay(client, 10_000)
    response = client.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "축하해"}, format="json"
    )
    assert response.status_code == 201, response.content
    funding.refresh_from_db()
    # Credited and achieved; the notifications of both events were rolled back to their
    # savepoints and logged.
    assert (funding.current_amount, funding.state) == (10_000, "achieved")
    assert Contribution.objects.filter(funding=funding).count() == 1
    assert not Notification.objects.exists()
    failed = [r for r in caplog.records if r.name == "notifications.receivers"]
    assert {r.getMessage().split(" failed")[0] for r in failed} == {
        "notifications: on_contribution_credited",
        "notifications: on_funding_achieved",
    }


def test_a_replayed_contribution_inside_a_transaction_changes_nothing_else(sandbox, caplog):
    """The contribution's notification has no savepoint of its own: a replay's duplicate
    rolls back the receiver's savepoint, quietly, and the transaction goes on."""
    author = AccountFactory()
    funding = FundingFactory(author=author, goal_amount=100_000, title="before")
    client = client_for(AccountFactory())
    pay(client, 10_000)
    body = {"funding": funding.pk, "amount": 10_000, "message": "축하해"}
    assert client.post("/remit/", body, format="json").status_code == 201
    contribution = Contribution.objects.get()
    with transaction.atomic():
        contribution_credited.send(Contribution, contribution=contribution)
        # Still usable (on PostgreSQL an error without a savepoint rolled back would abort
        # it): this write commits with it.
        Funding.objects.filter(pk=funding.pk).update(title="after")
    funding.refresh_from_db()
    assert funding.title == "after"
    assert Notification.objects.filter(recipient=author).count() == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR"]

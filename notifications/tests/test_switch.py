"""NOTIFICATIONS_ENABLED off: no event and no reminder creates a notification or a push."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import reminders
from notifications.models import Delivery, Device, Notification
from notifications.tests.helpers import notes
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

# Real commits: pushes leave when the event's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


def remit(client, funding, amount):
    pay(client, amount)
    response = client.post(
        "/remit/", {"funding": funding.pk, "amount": amount, "message": "축하해"}, format="json"
    )
    assert response.status_code == 201, response.content


def test_switched_off_nothing_is_created_and_on_again_it_is(sandbox, settings, fcm):
    author = AccountFactory()
    Device.objects.create(account=author, token="author-phone")
    funding = FundingFactory(author=author, goal_amount=30_000)
    fan = AccountFactory()
    settings.NOTIFICATIONS_ENABLED = False
    remit(client_for(AccountFactory()), funding, 10_000)
    assert client_for(fan).post("/follow/", {"id": author.pk}).status_code in (200, 201)
    FundingFactory(author=author, expire_on=timezone.now() + timedelta(hours=5))
    assert reminders.notify_expiring() == 0
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert client_for(author).get("/notification/").status_code == 204
    assert fcm.sent == []

    settings.NOTIFICATIONS_ENABLED = True
    remit(client_for(AccountFactory()), funding, 10_000)
    [note] = notes(author)
    assert note.kind == "contribution"
    assert Delivery.objects.get().notification == note
    assert [m["token"] for m in fcm.sent] == ["author-phone"]

"""What notifications add to a contribution: the author's notification is written in the
credit's transaction with a fixed handful of statements, whatever the author's settings."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Device, Notification, NotificationSetting
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db(transaction=True)

# The receiver's savepoint (2 statements: the row, its only write, has none of its own),
# who wants the kind (1), the row (1). Push adds no statement to the request: its job,
# enqueued at the commit, finds the phones (FCM is not configured here because the tests
# run jobs inline, whose statements would be counted with the request's).
ADDED_BY_NOTIFICATIONS = 4


def remit_statements(funding, giver) -> int:
    client = client_for(giver)
    pay(client, 1_000)
    body = {"funding": funding.pk, "amount": 1_000, "message": "축하해"}
    with CaptureQueriesContext(connection) as captured:
        assert client.post("/remit/", body, format="json").status_code == 201
    return len(captured.captured_queries)


def test_a_notification_adds_a_fixed_handful_of_statements(sandbox, settings):
    author = AccountFactory()
    for n in range(3):
        Device.objects.create(account=author, token=f"phone-{n}")
    funding = FundingFactory(author=author, goal_amount=1_000_000)
    settings.NOTIFICATIONS_ENABLED = False
    off = remit_statements(funding, AccountFactory())
    settings.NOTIFICATIONS_ENABLED = True
    on = [remit_statements(funding, AccountFactory()) for _ in range(2)]
    assert on == [off + ADDED_BY_NOTIFICATIONS] * 2
    assert Notification.objects.filter(recipient=author).count() == 2
    # Turned off: asked, and nothing written (neither the row nor its savepoint).
    NotificationSetting.objects.create(account=author, kind="contribution", enabled=False)
    assert remit_statements(funding, AccountFactory()) == off + 3
    assert Notification.objects.filter(recipient=author).count() == 2

"""The demo world has unread notifications to show; the admin lists them read-only."""

import pytest
from django.db import connection

from accounts.models import Account
from demo.data import load_demo_data
from fundings.models import Contribution
from notifications.kinds import Kind
from notifications.models import Delivery, Device, Notification
from notifications.services import notify
from tests.factories import AccountFactory

# Real commits: the demo's events are sent when its transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_accounts_have_unread_notifications(settings):
    settings.DEBUG = connection.vendor != "sqlite"
    load_demo_data()
    kinds_of_bob = set(
        Notification.objects.filter(recipient_id="demo-bob").values_list("kind", flat=True)
    )
    assert {Kind.CONTRIBUTION, Kind.ACHIEVED, Kind.FOLLOWER} <= kinds_of_bob
    alice = Account.objects.get(pk="demo-alice")
    assert Notification.objects.filter(recipient=alice, read_on__isnull=True).count() >= 3
    # Refunded gifts are not announced.
    refunded = Contribution.objects.filter(refunded_on__isnull=False).values_list("pk", flat=True)
    assert refunded
    keys = {f"contribution:{pk}" for pk in refunded}
    assert not Notification.objects.filter(kind=Kind.CONTRIBUTION, event_key__in=keys).exists()


def test_the_admin_lists_notifications_and_deliveries_read_only(client, settings):
    operator = AccountFactory(is_staff=True, is_superuser=True)
    someone = AccountFactory()
    note = notify(recipient_id=someone.pk, kind=Kind.FOLLOWER, event_key="account:x")
    device = Device.objects.create(account=someone, token="t")
    Delivery.objects.create(notification=note, device=device)
    client.force_login(operator)
    for url in (
        "/admin/notifications/notification/",
        "/admin/notifications/notification/?kind=follower&read_on__isempty=1",
        "/admin/notifications/delivery/",
        "/admin/notifications/delivery/?state=pending",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b'class="addlink"' not in response.content
    assert client.get(f"/admin/notifications/notification/{note.pk}/change/").status_code == 200
    response = client.post(f"/admin/notifications/notification/{note.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Notification.objects.filter(pk=note.pk).exists()

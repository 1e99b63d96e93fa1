"""`manage.py seed_demo`: the demo world a newcomer signs in to, loaded once, never in
production, and usable through the API as documented."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from accounts.models import Account, Follow
from demo.data import DEMO_ACCOUNTS, DEMO_PASSWORD
from fundings.models import Contribution, Funding, FundingStatus, Payout
from payments.models import Payment, PaymentState
from reports.models import Report

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def sign_in(email: str) -> APIClient:
    response = APIClient().post("/account/login", {"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']['access_token']}")
    return client


@pytest.fixture
def local(settings):
    """A local server's settings: `make run` on SQLite has DEBUG off, so DEBUG alone must not
    be what lets the command run there; on PostgreSQL a local setup turns DEBUG on."""
    settings.DEBUG = connection.vendor != "sqlite"


def test_loads_the_demo_world_and_prints_how_to_sign_in(local):
    printed = seed()
    assert "Demo data loaded." in printed
    assert DEMO_PASSWORD in printed
    for demo in DEMO_ACCOUNTS:
        assert demo.email in printed
        sign_in(demo.email)
    # Money as the services leave it: every live contribution on a credited payment, each
    # funding's amount their sum; one refunded contribution on a refunded payment.
    for funding in Funding.objects.all():
        live = funding.contributions.filter(refunded_on__isnull=True)
        assert funding.current_amount == (live.aggregate(s=Sum("amount"))["s"] or 0)
    for contribution in Contribution.objects.select_related("payment"):
        refunded = contribution.refunded_on is not None
        expected = PaymentState.REFUNDED if refunded else PaymentState.CREDITED
        assert contribution.payment.state == expected
        assert contribution.payment.amount == contribution.amount
    assert Contribution.objects.filter(refunded_on__isnull=False).count() == 1
    # Follows through the service: the counters match the rows.
    for account in Account.objects.all():
        assert account.follower_count == Follow.objects.filter(followee=account).count()
        assert account.followee_count == Follow.objects.filter(follower=account).count()
    alice = Account.objects.get(pk="demo-alice")
    assert (alice.follower_count, alice.followee_count) == (2, 2)
    assert Payment.objects.count() == Contribution.objects.count()
    # The operators' queues: one open report, one pending payout.
    assert Report.objects.filter(is_solved=False).count() == 1
    assert Payout.objects.filter(transferred_on__isnull=True).count() == 1
    statuses = {funding.status for funding in Funding.objects.all()}
    assert {FundingStatus.OPEN, FundingStatus.ACHIEVED, FundingStatus.EXPIRED} <= statuses


def test_the_achieved_fundings_author_can_ask_for_the_payout_right_away(local):
    seed()
    achieved = Funding.objects.get(state="achieved")
    client = sign_in(achieved.author.email)
    response = client.post("/funding/payout", {"id": achieved.pk})
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == achieved.goal_amount


def test_the_public_feed_shows_demo_fundings(local):
    seed()
    response = APIClient().get("/funding/public", {"page": 1})
    assert response.status_code == 200
    assert len(response.json()) >= 4


def test_loads_beside_an_operator_created_first_and_only_once(local):
    Account.objects.create_superuser("admin@example.com", "an-operator-password", id="op-1")
    assert "Demo data loaded." in seed()
    counts = (Account.objects.count(), Funding.objects.count(), Payment.objects.count())
    again = seed()
    assert "already loaded" in again and DEMO_PASSWORD in again
    assert (Account.objects.count(), Funding.objects.count(), Payment.objects.count()) == counts


def test_a_taken_demo_email_is_a_clear_error_and_loads_nothing(local):
    Account.objects.create_user(DEMO_ACCOUNTS[0].email, "someone-elses-password", id="x-1")
    with pytest.raises(CommandError, match="already uses one of the demo emails"):
        seed()
    assert Account.objects.count() == 1 and Funding.objects.count() == 0


def test_refused_on_a_production_like_setup_unless_forced(settings):
    """DEBUG off on a server database (PostgreSQL: CI's second run) is production-like;
    on SQLite (what `make run` uses, DEBUG off too) the command runs."""
    settings.DEBUG = False
    if connection.vendor == "sqlite":
        assert "Demo data loaded." in seed()
        return
    with pytest.raises(CommandError, match="Refusing to load demo data"):
        seed()
    assert not Account.objects.exists()
    assert "Demo data loaded." in seed("--force")


@pytest.mark.parametrize(
    "url",
    ["/funding/public", "/funding/following", "/funding/user?id=demo-alice", "/funding/joined"],
)
def test_every_feed_shows_something_for_alice(local, url):
    seed()
    response = sign_in("alice@funsun.local").get(url)
    assert response.status_code == 200
    assert len(response.json()) >= 1


def test_alice_does_not_see_daves_friends_only_funding(local):
    seed()
    response = sign_in("alice@funsun.local").get("/funding/user", {"id": "demo-dave"})
    assert response.json() and all(item["public"] for item in response.json())
    assert Funding.objects.filter(author_id="demo-dave", public=False).exists()

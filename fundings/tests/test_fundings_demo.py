"""`manage.py seed_demo` fills an empty database so that every screen shows something."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import Account
from conftest import client_for
from fundings.models import Contribution, Funding, FundingState, FundingStatus
from payments.models import PaymentState


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=StringIO())
    return {account.id: account for account in Account.objects.all()}


@pytest.mark.parametrize(
    "url",
    ["/funding/public", "/funding/following", "/funding/user?id=demo-alice", "/funding/joined"],
)
def test_every_feed_shows_something_for_alice(seeded, url):
    response = client_for(seeded["demo-alice"]).get(url)
    assert response.status_code == 200
    assert len(response.json()) >= 1


def test_demo_has_every_kind_of_funding(seeded):
    fundings = list(Funding.objects.all())
    assert {f.public for f in fundings} == {True, False}
    statuses = {f.status for f in fundings}
    assert {FundingStatus.OPEN, FundingStatus.ACHIEVED, FundingStatus.EXPIRED} <= statuses
    achieved = next(f for f in fundings if f.state == FundingState.ACHIEVED)
    assert achieved.current_amount == achieved.goal_amount


def test_demo_money_keeps_the_invariants(seeded):
    for funding in Funding.objects.all():
        total = funding.contributions.filter(refunded_on__isnull=True).aggregate(s=Sum("amount"))
        assert funding.current_amount == (total["s"] or 0), funding.title
        assert funding.current_amount <= funding.goal_amount
    for contribution in Contribution.objects.select_related("payment"):
        assert contribution.payment.state == PaymentState.CREDITED
        assert contribution.payment.provider == "sandbox"
        assert contribution.payment.amount == contribution.amount
        assert contribution.payment.payer_id == contribution.contributor_id


def test_alice_does_not_see_daves_friends_only_funding(seeded):
    response = client_for(seeded["demo-alice"]).get("/funding/user", {"id": "demo-dave"})
    assert all(item["public"] for item in response.json())
    assert Funding.objects.filter(author_id="demo-dave", public=False).exists()


def test_seed_demo_leaves_a_database_with_accounts_alone(seeded):
    count = Funding.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert Funding.objects.count() == count

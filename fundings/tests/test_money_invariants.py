"""docs/MONEY.md's money invariants, each with tests that fail if it breaks.

1. current_amount == sum of credited, not refunded contributions:
   test_random_journeys_keep_every_invariant, test_concurrency.py (all),
   test_remit_refund.py::test_contributor_takes_their_money_back / ..._cancels_and_refunds_them_all
2. current_amount <= goal; reaching it closes; closed takes no money:
   test_database_refuses_more_than_the_goal,
   test_remit_credit.py::test_reaching_the_goal_exactly...,
   ::test_closed_funding_is_409..., ::test_amount_over_what_the_funding_needs...,
   test_concurrency.py::test_forty_payers_race... (PostgreSQL) / ::test_payers_race_for_the_goal...
3. no contribution without an approved payment: test_remit_credit.py::test_no_payment_is_402...,
   ::test_a_ready_or_unapproved_payment_is_not_enough, ::test_payment_of_another_amount_is_402,
   payments/tests/test_sandbox_journey.py::test_sandbox_payment_for_another_payer_is_not_mine,
   test_database_requires_a_payment_per_contribution
4. one payment, one contribution; replays never credit twice: test_database_refuses_a_second_credit,
   test_remit_credit.py::test_replayed_twice_credits_once,
   test_concurrency.py::test_one_payment_replayed_from_many_threads_credits_once,
   payments/tests/test_kakaopay_journey.py::test_every_step_repeated_charges_and_credits_once
5. captured but uncredited money is refunded: test_remit_credit.py::test_closed_funding_is_409_...
   (refunded at the provider before the answer), payments/tests/test_reconcile.py (crash between
   approve and credit, two reconcilers at once, interrupted refunds, paid-after-expiry)
6. financial rows are never deleted: test_financial_rows_cannot_be_deleted,
   test_remit_refund.py::test_deleting_a_funding_with_contributions... (rows stay),
   ::test_deactivating_an_author_cancels_and_refunds_their_fundings
"""

import random
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Sum
from django.utils import timezone

from fundings.models import Contribution, Funding, FundingState
from fundings.services.contributions import cancel_funding
from payments.models import Payment, PaymentEvent, PaymentState
from payments.reconciliation import reconcile
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def check_invariants() -> None:
    for funding in Funding.objects.all():
        live = Contribution.objects.filter(funding=funding, refunded_on__isnull=True)
        total = live.aggregate(total=Sum("amount"))["total"] or 0
        assert funding.current_amount == total, funding  # 1
        assert 0 <= funding.current_amount <= funding.goal_amount  # 2
        if funding.state == FundingState.OPEN:
            assert funding.current_amount < funding.goal_amount  # 2: reaching it closes
    for contribution in Contribution.objects.select_related("payment"):
        payment = contribution.payment
        assert payment.payer_id == contribution.contributor_id  # 3
        assert payment.amount == contribution.amount
        assert payment.approved_on is not None
        if contribution.refunded_on is None:
            assert payment.state == PaymentState.CREDITED
            assert payment.sandbox_status == "SUCCESS_PAYMENT"  # the provider holds it
        else:
            assert payment.state in (PaymentState.REFUNDING, PaymentState.REFUNDED)
    # 4: every credited payment holds exactly one contribution
    credited = Payment.objects.filter(state=PaymentState.CREDITED)
    assert credited.filter(contribution__isnull=True).count() == 0
    for payment in Payment.objects.filter(state=PaymentState.REFUNDED):
        assert payment.sandbox_status == "CANCEL_PAYMENT"  # 5: really given back
        assert payment.refunded_amount == payment.amount


def test_random_journeys_keep_every_invariant(sandbox, settings):
    rng = random.Random(20261124)
    payers = [AccountFactory() for _ in range(5)]
    clients = {payer.pk: client_for(payer) for payer in payers}
    fundings = [FundingFactory(goal_amount=goal) for goal in (30_000, 50_000, 100_000)]
    amounts = [1_000, 5_000, 10_000, 20_000]
    counts = (0, 0, 0)
    seen: set = set()

    for _ in range(70):
        payer = rng.choice(payers)
        client = clients[payer.pk]
        funding = rng.choice(fundings)
        amount = rng.choice(amounts)
        action = rng.choice(["credit", "credit", "credit", "pay", "replay", "refund", "misc"])
        if action in ("credit", "pay"):
            pay(client, amount)
        if action in ("credit", "replay"):
            response = client.post(
                "/remit/", {"funding": funding.pk, "amount": amount, "message": "m"}, format="json"
            )
            assert response.status_code in (201, 402, 409), response.content
            seen.add(("remit", response.status_code))
        elif action == "refund":
            mine = Contribution.objects.filter(contributor=payer).order_by("?").first()
            if mine:
                response = client.delete(
                    "/remit/", f"id={mine.pk}", content_type="application/x-www-form-urlencoded"
                )
                assert response.status_code in (200, 409), response.content
                seen.add(("refund", response.status_code))
        elif action == "misc":
            roll = rng.random()
            if roll < 0.2:
                cancel_funding(funding=funding)
            elif roll < 0.4:
                Funding.objects.filter(pk=funding.pk).update(
                    expire_on=timezone.now() - timedelta(seconds=1)
                )
            else:
                settings.PAYMENT_CREDIT_GRACE_MINUTES = 0
                reconcile()
        check_invariants()
        now_counts = (
            Payment.objects.count(),
            Contribution.objects.count(),
            PaymentEvent.objects.count(),
        )
        assert all(n >= o for n, o in zip(now_counts, counts, strict=True))  # 6
        counts = now_counts

    settings.PAYMENT_CREDIT_GRACE_MINUTES = 0
    reconcile()
    check_invariants()
    assert not Payment.objects.filter(state=PaymentState.APPROVED).exists()  # 5
    assert not Payment.objects.filter(state=PaymentState.REFUNDING).exists()
    # The walk went through every kind of outcome, not just the happy path.
    assert {("remit", 201), ("remit", 402), ("remit", 409), ("refund", 200)} <= seen, seen
    assert Payment.objects.filter(state=PaymentState.REFUNDED, contribution__isnull=True).exists()
    assert (
        Funding.objects.filter(state=FundingState.ACHIEVED).exists()
        or Funding.objects.filter(state=FundingState.CANCELED).exists()
    )


def _credited(funding: Funding, amount: int = 10_000) -> Contribution:
    client = client_for(AccountFactory())
    pay(client, amount)
    client.post("/remit/", {"funding": funding.pk, "amount": amount, "message": "m"}, format="json")
    return Contribution.objects.latest("id")


def test_database_refuses_a_second_credit(sandbox):
    funding = FundingFactory()
    contribution = _credited(funding)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contribution.objects.create(
            funding=funding,
            contributor=contribution.contributor,
            amount=contribution.amount,
            message="again",
            payment=contribution.payment,
        )


def test_database_requires_a_payment_per_contribution(sandbox):
    funding = FundingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contribution.objects.create(
            funding=funding, contributor=AccountFactory(), amount=10_000, message="free money"
        )


def test_database_refuses_more_than_the_goal(sandbox):
    funding = FundingFactory(goal_amount=10_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Funding.objects.filter(pk=funding.pk).update(current_amount=10_001)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            payer=funding.author,
            amount=1_000,
            provider="sandbox",
            partner_order_id="x",
            refunded_amount=2_000,
        )


def test_financial_rows_cannot_be_deleted(sandbox):
    funding = FundingFactory()
    contribution = _credited(funding)
    with pytest.raises(ProtectedError):
        Payment.objects.filter(pk=contribution.payment_id).delete()
    with pytest.raises(ProtectedError):
        Funding.objects.filter(pk=funding.pk).delete()
    with pytest.raises(ProtectedError):
        contribution.contributor.delete()

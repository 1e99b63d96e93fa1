"""Refunds: DELETE /remit/, cancelling a funding, deactivating its author, the operator's
refund. Money goes back at the provider; the rows stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fundings.models import Contribution, Funding, FundingState, Payout
from fundings.services.contributions import (
    cancel_funding,
    refund_contribution_by_operator,
)
from funsun.api.errors import StateConflict
from payments.models import Payment, PaymentState
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def give(funding: Funding, amount: int = 10_000, giver=None) -> Contribution:
    """A contribution made through the app's whole journey."""
    giver = giver or AccountFactory()
    client = client_for(giver)
    pay(client, amount)
    response = client.post(
        "/remit/", {"funding": funding.pk, "amount": amount, "message": "hi"}, format="json"
    )
    assert response.status_code == 201, response.content
    return Contribution.objects.get(pk=response.json()["id"])


def delete(contribution: Contribution, actor=None):
    client = client_for(actor or contribution.contributor)
    return client.delete("/remit/", f"id={contribution.pk}", content_type=FORM)


def cancels(kakaopay) -> list[str]:
    return [call.body["tid"] for call in kakaopay.calls_of("cancel", ok=True)]


def test_contributor_takes_their_money_back(kakaopay):
    funding = FundingFactory(goal_amount=50_000)
    kept = give(funding, 5_000)
    contribution = give(funding, 10_000)
    response = delete(contribution)
    assert response.status_code == 200
    funding.refresh_from_db()
    assert funding.current_amount == 5_000
    contribution.refresh_from_db()
    assert contribution.refunded_on is not None
    payment = contribution.payment
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert cancels(kakaopay) == [payment.tid]
    assert kakaopay.orders[payment.tid].canceled_amount == 10_000
    listed = client_for(funding.author).get("/remit/", {"id": funding.pk}).json()
    assert [item["id"] for item in listed] == [kept.pk]
    # Again: harmless, nothing more is refunded.
    assert delete(contribution).status_code == 200
    assert cancels(kakaopay) == [payment.tid]
    assert Funding.objects.get(pk=funding.pk).current_amount == 5_000


@pytest.mark.parametrize("closing", ["achieved", "expired", "canceled"])
def test_no_refund_once_the_funding_is_closed(kakaopay, closing):
    funding = FundingFactory(goal_amount=20_000)
    contribution = give(funding, 10_000)
    if closing == "achieved":
        give(funding, 10_000)
    elif closing == "expired":
        Funding.objects.filter(pk=funding.pk).update(expire_on=timezone.now() - timedelta(1))
    else:
        Funding.objects.filter(pk=funding.pk).update(state=FundingState.CANCELED)
    before = Funding.objects.values_list("current_amount", "state").get(pk=funding.pk)
    response = delete(contribution)
    assert response.status_code == 409
    assert Funding.objects.values_list("current_amount", "state").get(pk=funding.pk) == before
    assert Contribution.objects.get(pk=contribution.pk).refunded_on is None
    assert Payment.objects.get(pk=contribution.payment_id).state == PaymentState.CREDITED
    assert cancels(kakaopay) == []


def test_only_the_contributor_may_refund(kakaopay):
    public = FundingFactory()
    contribution = give(public)
    assert delete(contribution, actor=public.author).status_code == 403
    assert delete(contribution, actor=AccountFactory()).status_code == 403
    private = FundingFactory(public=False)
    giver = AccountFactory()
    FollowFactory(follower=giver, followee=private.author)
    FollowFactory(follower=private.author, followee=giver)
    hidden = give(private, giver=giver)
    assert delete(hidden, actor=AccountFactory()).status_code == 404
    client = client_for(AccountFactory())
    assert client.delete("/remit/", "id=987654", content_type=FORM).status_code == 404
    assert client.delete("/remit/", "id=abc", content_type=FORM).status_code == 400
    assert client.delete("/remit/", "", content_type=FORM).status_code == 400
    assert cancels(kakaopay) == []
    assert Funding.objects.get(pk=public.pk).current_amount == 10_000


def test_refund_not_confirmed_by_the_provider_is_502_and_retried(kakaopay):
    funding = FundingFactory()
    contribution = give(funding)
    kakaopay.fail("cancel", status=500)
    response = delete(contribution)
    assert response.status_code == 502
    assert "retried" in response.json()["detail"]
    # Decided and consistent: out of the funding, its payment waiting to be refunded.
    assert Funding.objects.get(pk=funding.pk).current_amount == 0
    assert Contribution.objects.get(pk=contribution.pk).refunded_on is not None
    payment = Payment.objects.get(pk=contribution.payment_id)
    assert payment.state == PaymentState.REFUNDING and payment.needs_check
    # The contributor tries again: refunded now, once.
    assert delete(contribution).status_code == 200
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert cancels(kakaopay) == [payment.tid]


def test_deleting_a_funding_with_contributions_cancels_and_refunds_them_all(
    kakaopay, django_capture_on_commit_callbacks
):
    funding = FundingFactory(goal_amount=30_000)
    contributions = [give(funding, 10_000) for _ in range(3)]
    assert Funding.objects.get(pk=funding.pk).state == FundingState.ACHIEVED
    # The refund jobs run (inline, in the tests) once the cancellation commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(funding.author).delete(
            "/funding/", f"id={funding.pk}", content_type=FORM
        )
    assert response.status_code == 200, response.content
    funding.refresh_from_db()
    assert funding.state == FundingState.CANCELED
    assert funding.current_amount == 0
    tids = sorted(Payment.objects.values_list("tid", flat=True))
    assert sorted(cancels(kakaopay)) == tids
    # Rows stay, marked refunded.
    assert Contribution.objects.filter(pk__in=[c.pk for c in contributions]).count() == 3
    assert not Contribution.objects.filter(refunded_on__isnull=True).exists()
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.REFUNDED}
    # Cancelling again refunds nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        cancel_funding(funding=funding)
    assert len(cancels(kakaopay)) == 3


def test_cancel_funding_with_a_failing_provider_leaves_it_to_reconciliation(
    kakaopay, django_capture_on_commit_callbacks
):
    from payments.reconciliation import reconcile

    funding = FundingFactory()
    give(funding, 10_000)
    give(funding, 20_000)
    kakaopay.fail("cancel", status=500, times=2)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_funding(funding=funding)
    funding.refresh_from_db()
    assert funding.state == FundingState.CANCELED and funding.current_amount == 0
    assert Payment.objects.filter(state=PaymentState.REFUNDING).count() == 2
    reconcile()
    assert Payment.objects.filter(state=PaymentState.REFUNDED).count() == 2
    assert len(cancels(kakaopay)) == 2


def test_paid_out_funding_cannot_be_canceled(kakaopay):
    funding = FundingFactory(goal_amount=10_000)
    give(funding, 10_000)
    Payout.objects.create(
        funding=funding, amount=10_000, bank_account="국민 123", requested_by=funding.author
    )
    with pytest.raises(StateConflict):
        cancel_funding(funding=funding)
    assert Funding.objects.get(pk=funding.pk).current_amount == 10_000
    assert cancels(kakaopay) == []


def test_deactivating_an_author_cancels_and_refunds_their_fundings(
    kakaopay, django_capture_on_commit_callbacks
):
    author = AccountFactory()
    open_funding = FundingFactory(author=author, goal_amount=50_000)
    achieved = FundingFactory(author=author, goal_amount=10_000)
    empty = FundingFactory(author=author)
    give(open_funding, 10_000)
    give(achieved, 10_000)
    other = FundingFactory()
    give(other, 10_000)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(author).delete("/account/")
    assert response.status_code == 200
    for funding in (open_funding, achieved, empty):
        funding.refresh_from_db()
        assert funding.state == FundingState.CANCELED
        assert funding.current_amount == 0
    assert Funding.objects.get(pk=other.pk).current_amount == 10_000
    assert len(cancels(kakaopay)) == 2


def test_operator_refund_of_a_contribution(kakaopay, django_capture_on_commit_callbacks):
    funding = FundingFactory(goal_amount=10_000)
    contribution = give(funding, 10_000)
    assert Funding.objects.get(pk=funding.pk).state == FundingState.ACHIEVED
    with django_capture_on_commit_callbacks(execute=True):
        assert refund_contribution_by_operator(contribution=contribution) is True
    funding.refresh_from_db()
    assert funding.current_amount == 0
    assert funding.state == FundingState.ACHIEVED  # closed stays closed
    assert Payment.objects.get(pk=contribution.payment_id).state == PaymentState.REFUNDED
    with django_capture_on_commit_callbacks(execute=True):
        assert refund_contribution_by_operator(contribution=contribution) is False
    assert len(cancels(kakaopay)) == 1


def test_admin_refund_action_on_contributions(kakaopay, client, django_capture_on_commit_callbacks):
    """An operator refunds contributions from the contribution admin's action: taken back
    at once, refunded by the payments' jobs."""
    funding = FundingFactory(goal_amount=50_000)
    first, second = give(funding, 10_000), give(funding, 20_000)
    client.force_login(AccountFactory(is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/fundings/contribution/",
            {"action": "refund_contributions", "_selected_action": [first.pk, second.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert Funding.objects.get(pk=funding.pk).current_amount == 0
    assert len(cancels(kakaopay)) == 2
    assert "2 contribution(s) taken back; their payments are being refunded." in [
        str(m) for m in response.context["messages"]
    ]

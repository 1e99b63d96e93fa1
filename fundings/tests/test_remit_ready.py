"""Step 1 for a funding: the funding must be visible and able to take the amount; the
binding is recorded on the fundings side (FundingPayment), never on the payment."""

import pytest

from fundings.models import Funding, FundingPayment, FundingState
from payments.models import Payment, PaymentEvent
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("funding", ["abc", "0", "-1", str(2**63)])
def test_a_bad_funding_id_is_400(sandbox, auth_api, funding):
    response = auth_api.post("/remit/kakaopay/ready", {"amount": "10000", "funding": funding})
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Payment.objects.exists()


def test_ready_with_a_missing_funding_is_404(sandbox, auth_api):
    response = auth_api.post("/remit/kakaopay/ready", {"amount": "10000", "funding": "999999"})
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_ready_for_a_funding_you_may_not_see_is_404(sandbox, auth_api):
    friends_only = FundingFactory(public=False)
    response = auth_api.post(
        "/remit/kakaopay/ready", {"amount": "10000", "funding": friends_only.pk}
    )
    assert response.status_code == 404
    assert not Payment.objects.exists()
    # A friend sees it, and may pay for it.
    friend = AccountFactory()
    FollowFactory(follower=friend, followee=friends_only.author)
    FollowFactory(follower=friends_only.author, followee=friend)
    response = client_for(friend).post(
        "/remit/kakaopay/ready", {"amount": "10000", "funding": friends_only.pk}
    )
    assert response.status_code == 200


def test_ready_for_a_closed_or_nearly_full_funding_is_409(sandbox, auth_api):
    closed = FundingFactory(state=FundingState.ACHIEVED, goal_amount=10_000, current_amount=10_000)
    assert (
        auth_api.post("/remit/kakaopay/ready", {"amount": "1000", "funding": closed.pk}).status_code
        == 409
    )
    nearly = FundingFactory(goal_amount=10_000, current_amount=5_000)
    assert (
        auth_api.post("/remit/kakaopay/ready", {"amount": "6000", "funding": nearly.pk}).status_code
        == 409
    )
    assert not Payment.objects.exists()


def test_ready_binds_funding_and_message(sandbox, auth_api):
    funding = FundingFactory(title="Espresso machine")
    response = auth_api.post(
        "/remit/kakaopay/ready",
        {"amount": 5000, "funding": funding.pk, "message": "hi"},
        format="json",
    )
    assert response.status_code == 200
    payment = Payment.objects.get()
    assert FundingPayment.objects.get(payment=payment).funding_id == funding.pk
    assert funding.payments.get().payment_id == payment.pk
    assert payment.message == "hi"
    # What the buyer sees at checkout: the funding's title.
    assert payment.item_name == "Espresso machine"


def test_kakao_pay_shows_the_funding_title(kakaopay, auth_api):
    funding = FundingFactory(title="닌텐도 스위치")
    response = auth_api.post("/remit/kakaopay/ready", {"amount": "5000", "funding": funding.pk})
    assert response.status_code == 200
    assert kakaopay.calls_of("ready")[0].body["item_name"] == "닌텐도 스위치"


def test_a_payment_whose_ready_failed_stays_bound_and_failed(kakaopay, auth_api):
    funding = FundingFactory()
    kakaopay.fail("ready", status=500)
    response = auth_api.post("/remit/kakaopay/ready", {"amount": "5000", "funding": funding.pk})
    assert response.status_code == 502
    payment = Payment.objects.get()
    assert payment.state == "failed"
    assert FundingPayment.objects.filter(payment=payment, funding=funding).exists()
    kinds = list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds == ["created", "ready_failed"]


def test_deleting_a_funding_unbinds_its_payments(sandbox, auth_api):
    """A funding without contributions is deleted; its payments stay, usable elsewhere."""
    funding = FundingFactory()
    auth_api.post("/remit/kakaopay/ready", {"amount": "5000", "funding": funding.pk})
    response = client_for(funding.author).delete(
        "/funding/", f"id={funding.pk}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.content
    assert not Funding.objects.filter(pk=funding.pk).exists()
    assert Payment.objects.count() == 1
    assert not FundingPayment.objects.exists()

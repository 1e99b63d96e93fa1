"""POST /remit/: crediting an approved payment to a funding (docs/API.md step 5)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fundings.models import Contribution, Funding, FundingState
from payments.models import Payment, PaymentState
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def payer():
    return AccountFactory()


@pytest.fixture
def client(payer):
    return client_for(payer)


def remit(client, funding_id, amount=10_000, message="생일 축하해", **kwargs):
    return client.post(
        "/remit/",
        {"funding": funding_id, "amount": amount, "message": message},
        format=kwargs.pop("format", "json"),
    )


def snapshot():
    return (
        list(Funding.objects.order_by("pk").values_list("pk", "current_amount", "state")),
        list(Payment.objects.order_by("pk").values_list("pk", "state", "refunded_amount")),
        Contribution.objects.count(),
    )


def assert_refunded_at_kakao(kakaopay, payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert payment.refunded_amount == payment.amount
    cancels = kakaopay.calls_of("cancel", ok=True)
    assert [c.body["tid"] for c in cancels] == [payment.tid]
    assert kakaopay.orders[payment.tid].status == "CANCEL_PAYMENT"


def test_credit_as_json_with_a_string_id(kakaopay, client):
    funding = FundingFactory(goal_amount=30_000)
    pay(client, 10_000)
    response = remit(client, str(funding.pk))
    assert response.status_code == 201
    assert set(response.json()) == {"id", "message", "author", "created_on", "amount"}
    funding.refresh_from_db()
    assert funding.current_amount == 10_000
    assert funding.state == FundingState.OPEN


def test_credit_as_a_form(kakaopay, client):
    funding = FundingFactory()
    pay(client, 10_000)
    response = client.post(
        "/remit/", {"funding": str(funding.pk), "amount": "10000", "message": "hi"}
    )
    assert response.status_code == 201


def test_replayed_twice_credits_once(kakaopay, client):
    funding = FundingFactory()
    pay(client, 10_000)
    assert remit(client, funding.pk).status_code == 201
    before = snapshot()
    assert remit(client, funding.pk).status_code == 402
    assert snapshot() == before
    assert Contribution.objects.count() == 1
    assert Funding.objects.get(pk=funding.pk).current_amount == 10_000


def test_no_payment_is_402_and_nothing_changes(kakaopay, client):
    funding = FundingFactory()
    before = snapshot()
    response = remit(client, funding.pk)
    assert response.status_code == 402
    assert response.json()["detail"]
    assert snapshot() == before
    assert kakaopay.calls == []


def test_payment_of_another_amount_is_402(kakaopay, client):
    funding = FundingFactory()
    pay(client, 5_000)
    before = snapshot()
    assert remit(client, funding.pk, amount=10_000).status_code == 402
    assert snapshot() == before
    assert Payment.objects.get().state == PaymentState.APPROVED
    assert remit(client, funding.pk, amount=5_000).status_code == 201


def test_a_ready_or_unapproved_payment_is_not_enough(kakaopay, client):
    funding = FundingFactory()
    client.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert remit(client, funding.pk).status_code == 402
    assert not Contribution.objects.exists()


def test_payment_bound_to_another_funding_is_402(kakaopay, client):
    one, other = FundingFactory(), FundingFactory()
    pay(client, 10_000, funding=str(one.pk))
    assert remit(client, other.pk).status_code == 402
    assert remit(client, one.pk).status_code == 201


def test_bound_payment_is_used_before_an_unbound_one(kakaopay, client):
    funding = FundingFactory()
    pay(client, 10_000)
    pay(client, 10_000, funding=str(funding.pk))
    bound = Payment.objects.get(funding_payment__funding=funding)
    assert remit(client, funding.pk).status_code == 201
    assert Contribution.objects.get().payment_id == bound.pk


@pytest.mark.parametrize(
    "closed",
    [
        {"state": FundingState.ACHIEVED, "goal_amount": 10_000, "current_amount": 10_000},
        {"state": FundingState.CANCELED},
        {"state": FundingState.PAID_OUT, "goal_amount": 10_000, "current_amount": 10_000},
        {"expire_on_past": True},
    ],
    ids=["achieved", "canceled", "paid_out", "expired"],
)
def test_closed_funding_is_409_and_the_payment_is_refunded_at_the_provider(
    kakaopay, client, closed
):
    funding = FundingFactory()
    pay(client, 10_000)
    if closed.pop("expire_on_past", False):
        closed["expire_on"] = timezone.now() - timedelta(seconds=1)
    Funding.objects.filter(pk=funding.pk).update(**closed)
    before = Funding.objects.values_list("current_amount", "state").get(pk=funding.pk)
    response = remit(client, funding.pk)
    assert response.status_code == 409
    assert "refunded" in response.json()["detail"]
    assert not Contribution.objects.exists()
    assert Funding.objects.values_list("current_amount", "state").get(pk=funding.pk) == before
    assert_refunded_at_kakao(kakaopay, Payment.objects.get())


def test_amount_over_what_the_funding_needs_is_409_and_refunded(kakaopay, client):
    funding = FundingFactory(goal_amount=15_000, current_amount=6_000)
    pay(client, 10_000)
    response = remit(client, funding.pk)
    assert response.status_code == 409
    assert "9000" in response.json()["detail"]
    assert Funding.objects.get(pk=funding.pk).current_amount == 6_000
    assert_refunded_at_kakao(kakaopay, Payment.objects.get())


def test_missing_funding_is_409_and_refunded(kakaopay, client):
    pay(client, 10_000)
    assert remit(client, 987654).status_code == 409
    assert_refunded_at_kakao(kakaopay, Payment.objects.get())


def test_friends_only_funding_of_a_stranger_is_409_and_refunded(kakaopay, client, payer):
    funding = FundingFactory(public=False)
    pay(client, 10_000)
    assert remit(client, funding.pk).status_code == 409
    assert Funding.objects.get(pk=funding.pk).current_amount == 0
    assert_refunded_at_kakao(kakaopay, Payment.objects.get())


def test_friends_may_credit_a_friends_only_funding(kakaopay, client, payer):
    funding = FundingFactory(public=False)
    FollowFactory(follower=payer, followee=funding.author)
    FollowFactory(follower=funding.author, followee=payer)
    pay(client, 10_000)
    assert remit(client, funding.pk).status_code == 201


def test_reaching_the_goal_exactly_achieves_the_funding(kakaopay, client):
    funding = FundingFactory(goal_amount=20_000, current_amount=0)
    pay(client, 10_000)
    pay(client, 10_000)
    pay(client, 1_000)
    assert remit(client, funding.pk).status_code == 201
    assert Funding.objects.get(pk=funding.pk).state == FundingState.OPEN
    assert remit(client, funding.pk).status_code == 201
    funding.refresh_from_db()
    assert funding.current_amount == 20_000
    assert funding.state == FundingState.ACHIEVED
    assert funding.status == "achieved"
    assert remit(client, funding.pk, amount=1_000).status_code == 409
    assert Funding.objects.get(pk=funding.pk).current_amount == 20_000


@pytest.mark.parametrize(
    "data",
    [
        {"funding": "abc", "amount": 10_000, "message": "x"},
        {"funding": None, "amount": 10_000, "message": "x"},
        {"amount": 10_000, "message": "x"},
        {"funding": 1, "amount": 999, "message": "x"},
        {"funding": 1, "amount": 1_000_001, "message": "x"},
        {"funding": 1, "amount": "ten", "message": "x"},
        {"funding": 1, "amount": 10_000, "message": ""},
        {"funding": 1, "amount": 10_000, "message": "x" * 256},
        {"funding": 1, "amount": 10_000},
    ],
)
def test_bad_input_is_400_and_consumes_nothing(kakaopay, client, data):
    funding = FundingFactory()
    if data.get("funding") == 1:
        data["funding"] = funding.pk
    pay(client, 10_000)
    before = snapshot()
    response = client.post("/remit/", data, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert snapshot() == before


def test_remit_needs_a_token(api):
    assert api.post("/remit/", {"funding": 1, "amount": 1000, "message": "x"}).status_code == 401


def test_message_is_the_remits_own(kakaopay, client):
    funding = FundingFactory()
    pay(client, 10_000, message="from ready")
    response = remit(client, funding.pk, message="from remit")
    assert response.json()["message"] == "from remit"
    assert Contribution.objects.get().message == "from remit"

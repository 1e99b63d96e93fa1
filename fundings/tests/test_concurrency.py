"""Many payers at the same moment: the goal is never passed, nothing is lost.

Real threads, each with its own database connection, through the HTTP view. On PostgreSQL
(40 payers) the funding row lock serialises the credits; on SQLite (fewer threads) the
IMMEDIATE transactions do.
"""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from fundings.models import Contribution, Funding, FundingState
from payments.models import Payment, PaymentState
from payments.tests.fixtures import pay
from payments.tests.toss_fixtures import pay_with_toss
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for


def run_at_once(count: int, work) -> list:
    """Run `work(i)` in `count` threads released together; their results, in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def race_for_the_goal(kakaopay, *, payers: int, goal: int, amount: int = 10_000) -> None:
    credit_at_once(lambda client: pay(client, amount), payers=payers, goal=goal, amount=amount)
    refunded = Payment.objects.filter(state=PaymentState.REFUNDED)
    # Refunded at the provider, once each.
    canceled = [call.body["tid"] for call in kakaopay.calls_of("cancel", ok=True)]
    assert sorted(canceled) == sorted(refunded.values_list("tid", flat=True))
    for payment in refunded:
        assert kakaopay.orders[payment.tid].status == "CANCEL_PAYMENT"
    for payment in Payment.objects.filter(state=PaymentState.CREDITED):
        assert kakaopay.orders[payment.tid].status == "SUCCESS_PAYMENT"


def toss_race_for_the_goal(toss, *, payers: int, goal: int, amount: int = 10_000) -> None:
    """The same race with Toss Payments: each payer paid through the hosted checkout page."""
    credit_at_once(
        lambda client: pay_with_toss(client, toss, amount), payers=payers, goal=goal, amount=amount
    )
    refunded = Payment.objects.filter(state=PaymentState.REFUNDED)
    # Refunded at Toss, once each, each under a key of its own.
    canceled = [call.path for call in toss.calls_of("cancel", ok=True)]
    assert sorted(canceled) == sorted(
        f"/v1/payments/{key}/cancel" for key in refunded.values_list("provider_key", flat=True)
    )
    assert len(set(toss.idempotency_keys)) == len(toss.idempotency_keys)
    for payment in refunded:
        at_toss = toss.by_order(payment.partner_order_id)
        assert at_toss.status == "CANCELED" and len(at_toss.cancels) == 1
    for payment in Payment.objects.filter(state=PaymentState.CREDITED):
        at_toss = toss.by_order(payment.partner_order_id)
        assert at_toss.status == "DONE" and at_toss.balance_amount == amount


def credit_at_once(pay_one, *, payers: int, goal: int, amount: int) -> None:
    """`payers` payers, each with an approved payment of `amount`, credit it to one funding
    of `goal` at the same moment: exactly as many as fit are credited, the rest refunded."""
    funding = FundingFactory(goal_amount=goal)
    clients = [client_for(AccountFactory()) for _ in range(payers)]
    for client in clients:
        pay_one(client)
    assert Payment.objects.filter(state=PaymentState.APPROVED).count() == payers

    def credit(i: int) -> int:
        response = clients[i].post(
            "/remit/",
            {"funding": str(funding.pk), "amount": amount, "message": f"gift {i}"},
            format="json",
        )
        return response.status_code

    statuses = run_at_once(payers, credit)
    winners = goal // amount
    assert sorted(statuses) == [201] * winners + [409] * (payers - winners), statuses

    funding.refresh_from_db()
    assert funding.current_amount == goal
    assert funding.state == FundingState.ACHIEVED
    contributions = Contribution.objects.filter(funding=funding)
    assert contributions.count() == winners
    assert contributions.aggregate(total=Sum("amount"))["total"] == funding.current_amount
    assert Payment.objects.filter(state=PaymentState.CREDITED).count() == winners
    assert Payment.objects.filter(state=PaymentState.REFUNDED).count() == payers - winners


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_forty_payers_race_for_a_goal_of_twenty_five_on_postgres(kakaopay):
    race_for_the_goal(kakaopay, payers=40, goal=250_000)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_forty_toss_payers_race_for_a_goal_of_twenty_five_on_postgres(toss):
    toss_race_for_the_goal(toss, payers=40, goal=250_000)


@pytest.mark.django_db(transaction=True)
def test_toss_payers_race_for_the_goal_on_any_database(toss):
    toss_race_for_the_goal(toss, payers=8, goal=50_000)


@pytest.mark.django_db(transaction=True)
def test_payers_race_for_the_goal_on_any_database(kakaopay):
    race_for_the_goal(kakaopay, payers=8, goal=50_000)


@pytest.mark.django_db(transaction=True)
def test_one_payment_replayed_from_many_threads_credits_once(kakaopay):
    funding = FundingFactory(goal_amount=1_000_000)
    client = client_for(AccountFactory())
    pay(client, 10_000)

    def credit(i: int) -> int:
        return (
            client_for(Payment.objects.get().payer)
            .post(
                "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json"
            )
            .status_code
        )

    statuses = run_at_once(6, credit)
    assert sorted(statuses) == [201] + [402] * 5, statuses
    assert Contribution.objects.count() == 1
    assert Funding.objects.get(pk=funding.pk).current_amount == 10_000
    assert kakaopay.calls_of("cancel") == []


@pytest.mark.django_db(transaction=True)
def test_refund_and_credit_racing_keep_the_sum(kakaopay):
    """Contributors refunding while others credit: the sum always matches."""
    funding = FundingFactory(goal_amount=1_000_000)
    early = [client_for(AccountFactory()) for _ in range(4)]
    late = [client_for(AccountFactory()) for _ in range(4)]
    ids = []
    for client in early:
        pay(client, 10_000)
        ids.append(
            client.post(
                "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json"
            ).json()["id"]
        )
    for client in late:
        pay(client, 20_000)

    def work(i: int) -> int:
        if i < 4:
            return (
                early[i]
                .delete("/remit/", f"id={ids[i]}", content_type="application/x-www-form-urlencoded")
                .status_code
            )
        return (
            late[i - 4]
            .post(
                "/remit/", {"funding": funding.pk, "amount": 20_000, "message": "y"}, format="json"
            )
            .status_code
        )

    statuses = run_at_once(8, work)
    assert sorted(statuses) == [200] * 4 + [201] * 4, statuses
    funding.refresh_from_db()
    assert funding.current_amount == 80_000
    live = Contribution.objects.filter(funding=funding, refunded_on__isnull=True)
    assert live.aggregate(total=Sum("amount"))["total"] == 80_000
    assert len(kakaopay.calls_of("cancel", ok=True)) == 4


def refund_from_many_requests(kakaopay, callers: int) -> None:
    """`callers` DELETE /remit/ of one contribution at once, while the provider's answer to
    the one refund is held back: the money goes back once, and every caller gets 200, those
    that lost the race before the provider has answered the winner."""
    funding = FundingFactory(goal_amount=1_000_000)
    client = client_for(AccountFactory())
    pay(client, 10_000)
    contribution_id = client.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json"
    ).json()["id"]
    held = kakaopay.hold("cancel")
    losers_done = threading.Event()
    finished: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(callers)
    answers: list = [None] * callers

    def run(i: int) -> None:
        try:
            barrier.wait()
            response = client.delete(
                "/remit/", f"id={contribution_id}", content_type="application/x-www-form-urlencoded"
            )
            answers[i] = (response.status_code, response.json()["detail"])
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            answers[i] = exc
        finally:
            connection.close()
            with lock:
                finished.append(i)
                if len(finished) == callers - 1:
                    losers_done.set()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    try:
        # One request reached the provider; all the others answer while it waits there.
        assert held.arrived.wait(60)
        assert losers_done.wait(120), answers
    finally:
        held.release()
        for thread in threads:
            thread.join(timeout=120)

    assert sorted(answers, key=str) == sorted(
        [(200, "refunded")] + [(200, "refund in progress")] * (callers - 1), key=str
    ), answers
    assert len(kakaopay.calls_of("cancel")) == 1
    payment = Payment.objects.get()
    assert payment.state == PaymentState.REFUNDED
    assert kakaopay.orders[payment.tid].canceled_amount == 10_000
    assert Funding.objects.get(pk=funding.pk).current_amount == 0
    # Asked again once it is over: refunded, nothing more at the provider.
    again = client.delete(
        "/remit/", f"id={contribution_id}", content_type="application/x-www-form-urlencoded"
    )
    assert (again.status_code, again.json()["detail"]) == (200, "refunded")
    assert len(kakaopay.calls_of("cancel")) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_refunds_of_one_contribution_at_once_on_postgres(kakaopay):
    refund_from_many_requests(kakaopay, 20)


@pytest.mark.django_db(transaction=True)
def test_refunds_of_one_contribution_at_once_on_any_database(kakaopay):
    refund_from_many_requests(kakaopay, 6)

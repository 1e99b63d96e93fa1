"""Refunds out of the request: cancelling a funding, deactivating its author and an
operator's refund commit their decision and answer; a job per payment gives the money back.
And the deactivation is one transaction with the cancellations it makes; fundings of
deactivated authors left holding money are repaired.

The provider is the local fake Kakao Pay; its refunds can be held until the test releases
them. Jobs run in huey's immediate mode, after the answer (the request's on-commit work is
captured and run by the test); tests/hardening/test_account_deletion.py and
tests/deploy/test_jobs.py run them in real consumers.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from accounts.models import Account, Follow
from accounts.services import deactivate_account
from fundings import tasks as fundings_tasks
from fundings.models import Contribution, Funding, FundingState
from payments.models import Payment, PaymentEvent, PaymentState
from payments.tests.kakaopay_server import FakeKakaoPay, Order
from tests.factories import AccountFactory, FollowFactory, FundingFactory, credited_contribution
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def kakao_contribution(kakaopay: FakeKakaoPay, funding: Funding, amount: int = 1_000):
    """A credited contribution whose payment Kakao Pay captured (an order in the fake's books,
    as the payment journey leaves it; the journey itself is tested elsewhere)."""
    contribution = credited_contribution(funding, amount=amount)
    payment = contribution.payment
    tid = "T" + secrets.token_hex(9)
    with kakaopay.lock:
        kakaopay.orders[tid] = Order(
            tid=tid,
            cid=kakaopay.cid,
            partner_order_id=payment.partner_order_id,
            partner_user_id=str(payment.payer_id),
            item_name=funding.title,
            total_amount=amount,
            approval_url="",
            cancel_url="",
            fail_url="",
            status="SUCCESS_PAYMENT",
            approved_at=datetime.now(),
        )
    Payment.objects.filter(pk=payment.pk).update(provider="kakaopay", tid=tid)
    return contribution


def assert_refunded_once_each(kakaopay: FakeKakaoPay, payments) -> None:
    """Our books and Kakao Pay's agree: every payment refunded, each cancel made once."""
    payments = list(Payment.objects.filter(pk__in=[p.pk for p in payments]))
    assert {p.state for p in payments} == {PaymentState.REFUNDED}
    done = Counter(call.body["tid"] for call in kakaopay.calls_of("cancel", ok=True))
    assert done == Counter(p.tid for p in payments)
    for payment in payments:
        assert kakaopay.orders[payment.tid].canceled_amount == payment.amount
    refunded = Counter(
        PaymentEvent.objects.filter(
            payment__in=payments, kind__in=["refunded", "refunded_per_order"]
        ).values_list("payment_id", flat=True)
    )
    assert refunded == Counter(p.pk for p in payments)


def test_cancelling_a_funding_of_200_answers_before_any_refund(
    kakaopay, django_capture_on_commit_callbacks
):
    funding = FundingFactory(goal_amount=1_000_000)
    contributions = [kakao_contribution(kakaopay, funding) for _ in range(200)]
    payments = [Payment.objects.get(pk=c.payment_id) for c in contributions]
    # Were a refund made in the request, the answer would wait for this hold.
    held = kakaopay.hold("cancel", after=False)
    with django_capture_on_commit_callbacks(execute=False) as jobs:
        response = client_for(funding.author).delete(
            "/funding/", f"id={funding.pk}", content_type=FORM
        )
    assert response.status_code == 200, response.content
    assert response.json() == {"detail": "canceled"}
    # Answered with no refund call made: none arrived, none is waiting.
    assert not held.arrived.is_set()
    assert kakaopay.calls_of("cancel") == [] and kakaopay.calls_of("order") == []
    # The decision is committed whole: canceled, every contribution out, every payment
    # `refunding` (the durable record the jobs and reconciliation work from).
    funding.refresh_from_db()
    assert funding.state == FundingState.CANCELED and funding.current_amount == 0
    assert not Contribution.objects.filter(funding=funding, refunded_on__isnull=True).exists()
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.REFUNDING}

    held.release()
    for job in jobs:  # the commit's jobs, one per payment
        job()
    assert_refunded_once_each(kakaopay, payments)
    # Cancelling again enqueues nothing more and refunds nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(funding.author).delete(
            "/funding/", f"id={funding.pk}", content_type=FORM
        )
    assert response.status_code == 200
    assert_refunded_once_each(kakaopay, payments)


def test_the_operators_refund_answers_before_the_provider_is_asked(
    kakaopay, client, django_capture_on_commit_callbacks
):
    funding = FundingFactory(goal_amount=50_000)
    first, second = kakao_contribution(kakaopay, funding), kakao_contribution(kakaopay, funding)
    client.force_login(AccountFactory(is_staff=True, is_superuser=True))
    held = kakaopay.hold("cancel", after=False)
    with django_capture_on_commit_callbacks(execute=False) as jobs:
        response = client.post(
            "/admin/fundings/contribution/",
            {"action": "refund_contributions", "_selected_action": [first.pk, second.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert not held.arrived.is_set() and kakaopay.calls_of("cancel") == []
    assert Funding.objects.get(pk=funding.pk).current_amount == 0
    held.release()
    for job in jobs:
        job()
    assert_refunded_once_each(kakaopay, [first.payment, second.payment])


def test_deactivating_an_author_decides_everything_in_one_transaction(
    kakaopay, django_capture_on_commit_callbacks
):
    author = AccountFactory()
    fundings = [FundingFactory(author=author, goal_amount=50_000) for _ in range(3)]
    given = [kakao_contribution(kakaopay, f) for f in fundings for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=False) as jobs:
        response = client_for(author).delete("/account/")
    assert response.status_code == 200
    assert kakaopay.calls_of("cancel") == []
    # Committed together: the author inactive, the fundings canceled, the money taken back.
    assert Account.objects.get(pk=author.pk).is_active is False
    assert set(Funding.objects.filter(author=author).values_list("state", flat=True)) == {
        FundingState.CANCELED
    }
    for job in jobs:
        job()
    assert_refunded_once_each(kakaopay, [c.payment for c in given])


def break_at_funding(funding: Funding):
    """Django's hook around every query: the UPDATE that cancels `funding` fails as a lost
    database connection would, in the middle of the deactivation's transaction."""
    table = Funding._meta.db_table

    def wrapper(execute, sql, params, many, context):
        if sql.startswith(f'UPDATE "{table}"') and funding.pk in (params or ()):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


@pytest.mark.parametrize("broken", [0, 1, 2])
def test_a_failure_at_any_funding_rolls_the_whole_deactivation_back(
    kakaopay, django_capture_on_commit_callbacks, broken
):
    author = AccountFactory()
    friend = AccountFactory()
    FollowFactory(follower=author, followee=friend)
    fundings = [FundingFactory(author=author, goal_amount=50_000) for _ in range(3)]
    for funding in fundings:
        kakao_contribution(kakaopay, funding, 5_000)
    before = list(Funding.objects.order_by("pk").values_list("state", "current_amount"))
    with django_capture_on_commit_callbacks(execute=True) as jobs:
        with break_at_funding(fundings[broken]), pytest.raises(OperationalError):
            deactivate_account(account=author)
    # Nothing changed: the fundings before the broken one are not canceled either.
    assert jobs == []
    assert list(Funding.objects.order_by("pk").values_list("state", "current_amount")) == before
    assert not Contribution.objects.filter(refunded_on__isnull=False).exists()
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.CREDITED}
    author.refresh_from_db()
    assert author.is_active and author.email
    assert Follow.objects.filter(follower=author, followee=friend).exists()
    assert kakaopay.calls_of("cancel") == []


def strand(kakaopay) -> tuple[Funding, list[Contribution]]:
    """The state a deactivation that did not finish used to leave: the author inactive, an
    open funding still holding credited money."""
    author = AccountFactory()
    funding = FundingFactory(author=author, goal_amount=50_000)
    given = [kakao_contribution(kakaopay, funding, 3_000) for _ in range(2)]
    Account.objects.filter(pk=author.pk).update(is_active=False)
    return funding, given


def test_the_repair_job_cancels_and_refunds_fundings_of_deactivated_authors(
    kakaopay, django_capture_on_commit_callbacks
):
    funding, given = strand(kakaopay)
    kept = FundingFactory(goal_amount=50_000)
    kept_contribution = kakao_contribution(kakaopay, kept)
    with django_capture_on_commit_callbacks(execute=True):
        fundings_tasks.cancel_stranded_fundings.call_local()
    funding.refresh_from_db()
    assert funding.state == FundingState.CANCELED and funding.current_amount == 0
    assert_refunded_once_each(kakaopay, [c.payment for c in given])
    assert Funding.objects.get(pk=kept.pk).current_amount == kept_contribution.amount
    # Idempotent: a second run finds nothing.
    with django_capture_on_commit_callbacks(execute=True) as jobs:
        fundings_tasks.cancel_stranded_fundings.call_local()
    assert jobs == []
    assert_refunded_once_each(kakaopay, [c.payment for c in given])


def test_reconcile_payments_repairs_them_too(kakaopay, django_capture_on_commit_callbacks):
    funding, given = strand(kakaopay)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reconcile_payments", stdout=out)
    assert "cancel_stranded_fundings: repaired 1" in out.getvalue()
    assert Funding.objects.get(pk=funding.pk).state == FundingState.CANCELED
    assert_refunded_once_each(kakaopay, [c.payment for c in given])


def test_the_admins_deactivate_action_cancels_and_refunds_too(
    kakaopay, client, django_capture_on_commit_callbacks
):
    author = AccountFactory()
    funding = FundingFactory(author=author, goal_amount=50_000)
    given = [kakao_contribution(kakaopay, funding) for _ in range(2)]
    client.force_login(AccountFactory(is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=False) as jobs:
        response = client.post(
            "/admin/accounts/account/",
            {"action": "deactivate_accounts", "_selected_action": [author.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert kakaopay.calls_of("cancel") == []
    assert not Account.objects.get(pk=author.pk).is_active
    assert Funding.objects.get(pk=funding.pk).state == FundingState.CANCELED
    for job in jobs:
        job()
    assert_refunded_once_each(kakaopay, [c.payment for c in given])

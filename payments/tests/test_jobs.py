"""Payments' background jobs on huey (immediate mode: a job runs inline when the transaction
that enqueued it commits; huey keeps its retries in its in-memory schedule, which the tests
read and run with huey's own API).

The refund job: enqueued only on commit, idempotent, retried with a capped exponential
back-off, recorded as failed for operators when it gives up; the periodic reconciliation
runs under a lock. The provider is the local fake Kakao Pay.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.exceptions import TaskLockedException

from payments import tasks
from payments.models import Payment, PaymentEvent, PaymentState
from payments.reconciliation import reconcile
from payments.tests.fixtures import pay
from tests.factories import AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

FAR_FUTURE = datetime(2100, 1, 1)


@pytest.fixture(autouse=True)
def _empty_schedule():
    """huey's in-memory storage outlives a test: each starts and ends with nothing queued."""
    HUEY.flush()
    yield
    HUEY.flush()


def an_approved_payment(amount: int = 10_000) -> Payment:
    payer = AccountFactory()
    pay(client_for(payer), amount)
    return Payment.objects.get(payer=payer, state=PaymentState.APPROVED)


def decide(payment: Payment) -> None:
    """Decide its refund in a transaction: the job is enqueued when that commits."""
    with transaction.atomic():
        assert tasks.refund_in_background(
            payment_id=payment.pk, from_states=[PaymentState.APPROVED], reason="test"
        )


def cancels(kakaopay, ok=None) -> list:
    return kakaopay.calls_of("cancel", ok=ok)


def events(payment: Payment, *kinds: str) -> list[str]:
    return list(
        PaymentEvent.objects.filter(payment=payment, kind__in=kinds).values_list("kind", flat=True)
    )


def due_retries() -> list:
    """The retries huey scheduled, taken out of its schedule (as its scheduler would)."""
    return HUEY.read_schedule(FAR_FUTURE)


def test_the_job_is_enqueued_only_when_the_decision_commits(
    kakaopay, django_capture_on_commit_callbacks
):
    payment = an_approved_payment()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decide(payment)
    # Decided: `refunding`, no lease (the job takes it), nothing asked of the provider yet.
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDING and payment.claimed_until is None
    assert cancels(kakaopay) == []
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: huey runs the job
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED and payment.claimed_until is None
    assert len(cancels(kakaopay, ok=True)) == 1
    assert kakaopay.orders[payment.tid].canceled_amount == 10_000

    # A rolled back decision enqueues nothing.
    other = an_approved_payment()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                decide(other)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert Payment.objects.get(pk=other.pk).state == PaymentState.APPROVED


def test_a_repeated_job_refunds_once(kakaopay, django_capture_on_commit_callbacks):
    payment = an_approved_payment()
    with django_capture_on_commit_callbacks(execute=True):
        decide(payment)
        tasks.refund_payment(payment.pk)  # a second copy of the same job
    tasks.refund_payment(payment.pk)  # and a third, later
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.REFUNDED
    assert len(cancels(kakaopay)) == 1
    assert events(payment, "refunded", "refunded_per_order") == ["refunded"]
    assert due_retries() == []


def test_retries_back_off_exponentially_up_to_a_cap_then_the_failure_is_recorded(
    kakaopay, django_capture_on_commit_callbacks
):
    FailedJob = apps.get_model("jobs", "FailedJob")
    payment = an_approved_payment()
    kakaopay.fail("cancel", status=500, times=100)
    with django_capture_on_commit_callbacks(execute=True):
        decide(payment)
    delays = []
    for _ in range(tasks.REFUND_RETRIES):
        (retry,) = due_retries()
        assert retry.args == (payment.pk,)
        # huey keeps times in naive UTC.
        now = datetime.now(UTC).replace(tzinfo=None)
        delays.append(round((retry.eta - now).total_seconds() / 10) * 10)
        payment.refresh_from_db()
        # Between tries: still `refunding`, flagged, no lease (reconciliation may take it).
        assert payment.state == PaymentState.REFUNDING and payment.needs_check
        assert payment.claimed_until is None
        assert not FailedJob.objects.exists()
        HUEY.execute(retry, timestamp=FAR_FUTURE)
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600, 3600]
    # Given up: nothing scheduled, the failure listed for operators.
    assert due_retries() == []
    (failed,) = FailedJob.objects.all()
    assert failed.task == "payments.tasks.refund_payment"
    assert failed.arguments == repr(payment.pk)
    assert "did not confirm" in failed.error
    assert "RefundNotConfirmed" in failed.traceback
    # Each try was one call at most: never a refund the provider made twice.
    assert kakaopay.orders[payment.tid].canceled_amount == 0
    # The provider is back: reconciliation still finishes it, once.
    kakaopay.failures.clear()
    assert reconcile().refunds_finished == 1
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.REFUNDED
    assert len(cancels(kakaopay, ok=True)) == 1


def test_a_job_finding_another_process_on_the_refund_looks_again_later(
    kakaopay, django_capture_on_commit_callbacks
):
    payment = an_approved_payment()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decide(payment)
    # Another process holds the lease (a reconciler mid-call, say).
    Payment.objects.filter(pk=payment.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=5)
    )
    callbacks[0]()
    assert cancels(kakaopay) == []
    (retry,) = due_retries()
    # That process died: its lease lapses, and the job's next try refunds it.
    Payment.objects.filter(pk=payment.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    HUEY.execute(retry, timestamp=FAR_FUTURE)
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.REFUNDED
    assert len(cancels(kakaopay)) == 1
    assert due_retries() == []


def test_reconciliation_leaves_a_fresh_refund_to_its_job_and_finishes_a_lost_one(
    kakaopay, django_capture_on_commit_callbacks
):
    """The process crashed between the commit and the enqueue: `refunding` is the durable
    record, and reconciliation finishes it once it has waited longer than a lease."""
    payment = an_approved_payment()
    with django_capture_on_commit_callbacks(execute=False):
        decide(payment)  # its job is never enqueued
    assert reconcile().refunds_finished == 0
    assert cancels(kakaopay) == []
    Payment.objects.filter(pk=payment.pk).update(updated_on=timezone.now() - timedelta(seconds=301))
    assert reconcile().refunds_finished == 1
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.REFUNDED
    assert len(cancels(kakaopay)) == 1


def test_periodic_reconciliation_runs_under_a_lock(kakaopay):
    payment = an_approved_payment()
    Payment.objects.filter(pk=payment.pk).update(approved_on=timezone.now() - timedelta(minutes=10))
    (job,) = [t for t in HUEY.read_periodic(FAR_FUTURE) if t.name == "reconcile_payments"]
    lock = HUEY.lock_task("reconcile_payments")
    with lock:  # another consumer is running it
        with pytest.raises(TaskLockedException):
            tasks.reconcile_payments.call_local()
        HUEY.execute(job, timestamp=FAR_FUTURE)  # huey skips it: no failure, no retry
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.APPROVED
    assert not apps.get_model("jobs", "FailedJob").objects.exists()
    HUEY.execute(job, timestamp=FAR_FUTURE)
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.REFUNDED
    assert not lock.is_locked()


def test_failed_jobs_are_listed_in_the_admin(client, kakaopay):
    FailedJob = apps.get_model("jobs", "FailedJob")
    FailedJob.objects.create(
        task="payments.tasks.refund_payment", task_id="t-1", arguments="42", error="boom"
    )
    client.force_login(AccountFactory(is_staff=True, is_superuser=True))
    page = client.get("/admin/jobs/failedjob/")
    assert page.status_code == 200
    assert b"payments.tasks.refund_payment" in page.content and b"boom" in page.content

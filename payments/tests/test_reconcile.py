"""reconcile_payments: captured money nobody credited goes back, exactly once."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from payments.models import Payment, PaymentState
from payments.tests.fixtures import buyer_pays, pay, ready
from tests.factories import AccountFactory
from tests.helpers import client_for


def backdate(payment: Payment, minutes: float, *fields: str) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        **{name: getattr(payment, name) - timedelta(minutes=minutes) for name in fields}
    )


def run_command() -> str:
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_two_reconcilers_at_once_refund_once(kakaopay):
    clients = [client_for(AccountFactory()) for _ in range(5)]
    for client in clients:
        pay(client, 10_000)
    Payment.objects.update(approved_on=timezone.now() - timedelta(minutes=10))
    # The first run's first cancel is held at Kakao Pay before it does anything: a second
    # run starts and ends while the first is inside a provider call.
    held = kakaopay.hold("cancel", after=False)
    errors = []

    def first_run():
        try:
            run_command()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=first_run)
    first.start()
    try:
        assert held.wait_arrived(), "the first run never asked Kakao Pay to cancel"
        run_command()
        # The second run refunded the four others and left the held one to the first run.
        states = sorted(Payment.objects.values_list("state", flat=True))
        assert states == [PaymentState.REFUNDED] * 4 + [PaymentState.REFUNDING]
        assert len(kakaopay.calls_of("cancel")) == 4
    finally:
        held.release()
        first.join()
    assert errors == []
    assert Payment.objects.filter(state=PaymentState.REFUNDED).count() == 5
    assert len(kakaopay.calls_of("cancel")) == 5
    for payment in Payment.objects.all():
        assert kakaopay.orders[payment.tid].canceled_amount == 10_000


@pytest.mark.django_db
def test_ready_past_its_validity_expires_after_asking_order(kakaopay):
    client = client_for(AccountFactory())
    started = ready(client, 10_000)
    payment = Payment.objects.get()
    backdate(payment, 16, "created_on")
    run_command()
    payment.refresh_from_db()
    assert payment.state == PaymentState.EXPIRED
    assert len(kakaopay.calls_of("order")) == 1
    assert kakaopay.calls_of("order")[0].body["tid"] == started["tid"]


@pytest.mark.django_db
def test_ready_past_its_validity_but_paid_at_kakao_is_refunded(kakaopay, kakaopay_fails):
    """Our approve was carried out at Kakao and then we crashed before recording it."""
    client = client_for(AccountFactory())
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    kakaopay.fail("order", status=500)  # /order unreachable, after ...
    with kakaopay_fails("approve", "time-out", after=True):  # ... a time-out
        assert client.get("/remit/kakaopay/approve").status_code == 502
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(needs_check=False)  # as if the flag was lost
    backdate(payment, 16, "created_on")
    run_command()
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert kakaopay.orders[payment.tid].status == "CANCEL_PAYMENT"
    kinds = list(payment.events.values_list("kind", flat=True))
    assert "approved_per_order" in kinds and "refunded" in kinds


@pytest.mark.django_db
def test_a_refund_interrupted_by_a_crash_is_finished_without_cancelling_twice(
    kakaopay, kakaopay_fails
):
    """The process called cancel, Kakao did it, and the process died before writing it
    down: the lease lapses, reconciliation asks /order and records the refund."""
    client = client_for(AccountFactory())
    pay(client, 10_000)
    payment = Payment.objects.get()
    from payments import services

    with kakaopay_fails("cancel", "time-out", after=True):
        assert services.refund_uncredited(payment_id=payment.pk, reason="test") is False
    # As a crash would leave it: refunding, lease still set (not yet lapsed).
    Payment.objects.filter(pk=payment.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=1), needs_check=False
    )
    run_command()
    assert Payment.objects.get().state == PaymentState.REFUNDING  # someone holds the lease
    Payment.objects.filter(pk=payment.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    run_command()
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert len(kakaopay.wait_for_calls("cancel", 1)) == 1
    assert kakaopay.orders[payment.tid].canceled_amount == 10_000


@pytest.mark.django_db
def test_ready_without_tid_expires_without_asking(kakaopay, kakaopay_fails):
    client = client_for(AccountFactory())
    with kakaopay_fails("ready", "time-out"):
        client.post("/remit/kakaopay/ready", {"amount": "10000"})
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(state=PaymentState.READY)  # crash before "failed"
    backdate(payment, 16, "created_on")
    run_command()
    assert Payment.objects.get().state == PaymentState.EXPIRED
    assert kakaopay.calls_of("order") == []

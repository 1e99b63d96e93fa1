"""The sandbox provider: Kakao Pay's behaviour without the network.

`ready` points the buyer at a checkout page this server serves
(/payments/sandbox/checkout/<tid>); its "pay" button redirects to the approval URL with a
`pg_token`, exactly like Kakao Pay. The provider's side of each order (its status, the token
it issued, what was canceled) is kept in the payment's `sandbox_*` columns and changed only
by guarded UPDATEs, so any process can serve any step. It mimics Kakao Pay's statuses and
error codes in what it stores and logs, and answers the core in the same neutral terms.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from payments.providers import kakaopay
from payments.providers.base import (
    Answer,
    Lookup,
    PaymentProvider,
    ProviderError,
    ReadyResult,
    callback_url,
)

if TYPE_CHECKING:
    from payments.models import Payment

READY = "READY"
AUTHORIZED = "AUTH_PASSWORD"  # the buyer pressed "pay"; approve captures the money
PAID = "SUCCESS_PAYMENT"
PART_CANCELED = "PART_CANCEL_PAYMENT"
CANCELED = "CANCEL_PAYMENT"
QUIT = "QUIT_PAYMENT"


def _new_tid() -> str:
    return "T" + secrets.token_hex(10)[:19]  # 20 characters, like Kakao's


def checkout_path(tid: str) -> str:
    return f"/payments/sandbox/checkout/{tid}"


# Kakao Pay's rules, mimicked: the same validity, statuses and error codes.
TID_VALIDITY = kakaopay.TID_VALIDITY


def _refused(call: str, code: int, message: str) -> ProviderError:
    """The error Kakao Pay would answer (a 400 with `code`), in the core's terms."""
    kind = kakaopay.classify(call, 400, code, None)
    return kind(
        f"{message} ({code})",
        raw={"error_code": code, "error_message": message, "provider": "sandbox"},
    )


def _payments():
    from payments.models import Payment

    return Payment.objects


def is_expired(payment: Payment) -> bool:
    return payment.created_on + TID_VALIDITY <= timezone.now()


def sandbox_status(payment: Payment) -> str:
    """The sandbox's status of the order.

    Payments written straight into the database (demo data, test fixtures) have no sandbox
    record; they count as paid when our own state says the money was taken, so that they
    can be refunded like any other.
    """
    if payment.sandbox_status:
        return payment.sandbox_status
    from payments.models import PaymentState

    if payment.state in (PaymentState.APPROVED, PaymentState.CREDITED, PaymentState.REFUNDING):
        return PAID
    if payment.state == PaymentState.REFUNDED:
        return CANCELED
    if payment.state == PaymentState.READY:
        return READY
    return QUIT


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def order_validity(self) -> timedelta:
        return TID_VALIDITY

    def new_order_fields(self) -> dict[str, Any]:
        # The order is open at the sandbox, under its tid, from the payment's INSERT on:
        # ready has nothing left to write.
        return {"sandbox_status": READY, "sandbox_pg_token": "", "tid": _new_tid()}

    def ready(self, payment: Payment) -> ReadyResult:
        tid = payment.tid or _new_tid()
        if payment.sandbox_status != READY or payment.sandbox_pg_token:
            _payments().filter(pk=payment.pk).update(sandbox_status=READY, sandbox_pg_token="")
        url = f"{settings.PUBLIC_BASE_URL}{checkout_path(tid)}"
        raw = {
            "tid": tid,
            "next_redirect_app_url": url,
            "next_redirect_mobile_url": url,
            "next_redirect_pc_url": url,
            "created_at": timezone.localtime().replace(tzinfo=None).isoformat(timespec="seconds"),
            "provider": "sandbox",
        }
        return ReadyResult(tid, url, url, url, raw)

    def approve(self, payment: Payment) -> Answer:
        if not payment.tid:
            raise _refused("approve", kakaopay.UNKNOWN_TID, "unknown tid")
        captured = (
            _payments()
            .filter(pk=payment.pk, sandbox_status=AUTHORIZED, sandbox_pg_token=payment.pg_token)
            .exclude(sandbox_pg_token="")
            .filter(created_on__gt=timezone.now() - TID_VALIDITY)
            .update(sandbox_status=PAID)
        )
        if not captured:
            current = _payments().get(pk=payment.pk)
            status = sandbox_status(current)
            if status in (PAID, PART_CANCELED, CANCELED):
                raise _refused("approve", kakaopay.ALREADY_APPROVED, "payment already approved")
            if status == QUIT:
                raise _refused("approve", kakaopay.APPROVE_FAILED, "the buyer quit the payment")
            if is_expired(current):
                raise _refused("approve", kakaopay.EXPIRED, "payment expired")
            if status == READY:
                raise _refused(
                    "approve", kakaopay.NOT_FINISHED, "the buyer has not finished paying"
                )
            raise _refused("approve", kakaopay.BAD_PG_TOKEN, "invalid pg_token")
        # The row is `payment` plus this UPDATE (tid, order id, payer, amount never change).
        payment.sandbox_status = PAID
        return Answer(
            {
                "aid": "A" + secrets.token_hex(10)[:19],
                "tid": payment.tid,
                "partner_order_id": payment.partner_order_id,
                "partner_user_id": str(payment.payer_id),
                "payment_method_type": "MONEY",
                "amount": {"total": payment.amount, "tax_free": 0},
                "approved_at": _now_text(),
                "provider": "sandbox",
            }
        )

    def refund(self, payment: Payment, amount: int) -> Answer:
        available = payment.amount - payment.refunded_amount
        if amount <= 0 or amount > available:
            raise _refused(
                "cancel", kakaopay.CANCEL_TOO_MUCH, "cancel amount exceeds the cancellable amount"
            )
        canceled_after = payment.refunded_amount + amount
        status = CANCELED if canceled_after == payment.amount else PART_CANCELED
        # Compare-and-set on what was canceled so far: a repeated cancel finds it changed.
        changed = (
            _payments()
            .filter(pk=payment.pk, sandbox_canceled_amount=payment.refunded_amount)
            .filter(
                Q(sandbox_status__in=(PAID, PART_CANCELED))
                | Q(sandbox_status="", state__in=("approved", "credited", "refunding"))
            )
            .update(sandbox_status=status, sandbox_canceled_amount=canceled_after)
        )
        if not changed:
            current = _payments().get(pk=payment.pk)
            if sandbox_status(current) not in (PAID, PART_CANCELED):
                raise _refused(
                    "cancel",
                    kakaopay.CANCEL_WRONG_STATE,
                    "the payment cannot be canceled in its state",
                )
            raise _refused(
                "cancel", kakaopay.CANCEL_TOO_MUCH, "cancel_available_amount does not match"
            )
        return Answer(
            {
                "tid": payment.tid,
                "status": status,
                "amount": {"total": payment.amount},
                "approved_cancel_amount": {"total": amount},
                "canceled_amount": {"total": canceled_after},
                "cancel_available_amount": {"total": payment.amount - canceled_after},
                "canceled_at": _now_text(),
                "provider": "sandbox",
            }
        )

    def lookup(self, payment: Payment) -> Lookup:
        current = _payments().get(pk=payment.pk)
        status = sandbox_status(current)
        canceled = current.sandbox_canceled_amount
        if status == CANCELED and not canceled:
            canceled = current.amount
        available = current.amount - canceled if status in (PAID, PART_CANCELED) else 0
        raw: dict[str, Any] = {
            "tid": current.tid,
            "status": status,
            "amount": {"total": current.amount},
            "canceled_amount": {"total": canceled},
            "cancel_available_amount": {"total": available},
            "provider": "sandbox",
        }
        neutral, refundable = kakaopay.order_status(status, available)
        return Lookup(neutral, refundable, raw, status)


def _now_text() -> str:
    """Kakao's timestamps: Korea time, no offset."""
    return timezone.localtime().replace(tzinfo=None).isoformat(timespec="seconds")


# --- the buyer's side: the checkout page ------------------------------------------------


def checkout_payment(tid: str) -> Payment | None:
    return _payments().filter(tid=tid, provider=SandboxProvider.name).first()


def buyer_pays(payment: Payment) -> str:
    """The buyer pressed "pay": authorise the order and answer where to send the browser.

    Pressing twice sends the browser to the same approval URL with the same token.
    """
    if is_expired(payment):
        return callback_url("fail")
    token = secrets.token_urlsafe(24)
    authorised = (
        _payments()
        .filter(pk=payment.pk, sandbox_status=READY)
        .update(sandbox_status=AUTHORIZED, sandbox_pg_token=token)
    )
    if not authorised:  # pressed before (same token again), quit, or paid already
        current = _payments().only("sandbox_status", "sandbox_pg_token").get(pk=payment.pk)
        if current.sandbox_status == QUIT or not current.sandbox_pg_token:
            return callback_url("cancel")
        token = current.sandbox_pg_token
    return f"{callback_url('approval')}?pg_token={token}"


def buyer_quits(payment: Payment) -> str:
    """The buyer pressed "cancel" before paying."""
    _payments().filter(pk=payment.pk, sandbox_status__in=(READY, AUTHORIZED)).update(
        sandbox_status=QUIT
    )
    return callback_url("cancel")

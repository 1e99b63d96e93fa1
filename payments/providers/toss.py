"""Toss Payments: its payment window and its core API (docs/TOSS.md): confirm, cancel, look-up.

Toss approves at the buyer's return. `ready` opens nothing at Toss: the order is ours, and a
checkout page of this server opens Toss's payment window for it (`window_request`). The
buyer authorises in the window; Toss sends the browser back to our success route with a
`paymentKey`, which the core stores (`Payment.provider_key`) and `approve` confirms. Only
that confirm takes the money.

Every Toss code and status lives here and is translated into the core's neutral terms
(payments/providers/base.py): the rest of the project never sees them.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils.crypto import salted_hmac

from payments.providers.base import (
    Answer,
    Lookup,
    OrderStatus,
    OutcomeUnknown,
    PaymentDeclined,
    PaymentExpired,
    PaymentProvider,
    ProviderError,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderUnavailable,
    ReadyResult,
    RefundRefused,
    send,
)

if TYPE_CHECKING:
    from payments.models import Payment

logger = logging.getLogger(__name__)

NAME = "toss"
CHECKOUT_PATH = "/payments/toss/checkout/"
SUCCESS_PATH = "/payments/toss/success"
FAIL_PATH = "/payments/toss/fail"

# Our order's validity, as for every provider (docs/PRODUCT.md): the checkout page opens the window
# only within it. Toss keeps an open window 30 minutes and an authorisation 10 more for our
# confirm; a buyer still in the window after our order expired is refused at the return
# (the order no longer waits), and Toss drops the session uncharged.
ORDER_VALIDITY = timedelta(minutes=15)

# Toss's orderId: 6-64 characters (docs/TOSS.md). Ours (`funsun-` + 32 hex digits) qualify.
ORDER_ID = re.compile(r"[A-Za-z0-9_=-]{6,64}")
# Toss's paymentKey: at most 200 characters; we accept only the characters it uses.
PAYMENT_KEY = re.compile(r"[A-Za-z0-9_=.-]{1,200}")
SECRET_KEY = re.compile(r"(test|live)_sk_[A-Za-z0-9]+")
CLIENT_KEY = re.compile(r"(test|live)_ck_[A-Za-z0-9]+")

# Payment `status` values, by what they mean for our money.
PAID = frozenset({"DONE"})
PART_CANCELED = frozenset({"PARTIAL_CANCELED"})
CANCELED = frozenset({"CANCELED"})
FAILED = frozenset({"ABORTED"})
EXPIRED = frozenset({"EXPIRED"})
# READY, IN_PROGRESS, WAITING_FOR_DEPOSIT and any status Toss adds later: not paid (yet).

# Error codes that decide what we do (docs/TOSS.md, "Errors that matter").
BAD_KEY = frozenset({"UNAUTHORIZED_KEY", "INVALID_API_KEY", "INCORRECT_BASIC_AUTH_FORMAT"})
ALREADY_PROCESSED = "ALREADY_PROCESSED_PAYMENT"
IN_PROCESSING = "IDEMPOTENT_REQUEST_PROCESSING"
SESSION_GONE = "NOT_FOUND_PAYMENT_SESSION"
NOT_FOUND = "NOT_FOUND_PAYMENT"
# Refusals of the buyer's card or limits, answered 400 (a 403 on confirm is a refusal too).
CARD_REFUSED = frozenset(
    {
        "INVALID_REJECT_CARD",
        "INVALID_STOPPED_CARD",
        "INVALID_CARD_EXPIRATION",
        "INVALID_CARD_NUMBER",
        "INVALID_CARD_LOST_OR_STOLEN",
        "INVALID_PASSWORD",
        "BELOW_MINIMUM_AMOUNT",
        "NOT_AVAILABLE_PAYMENT",
    }
)

# What the buyer's card statement and Toss's console show as the reason of a refund; why we
# refund is in the payment's event log.
CANCEL_REASON = "FunSun 선물 펀딩 환불"


def order_status(status: str, balance: int | None) -> tuple[OrderStatus, int]:
    """A Payment `status` in the core's terms, with what is still refundable."""
    refundable = balance or 0
    if status in PAID:
        return OrderStatus.PAID, refundable
    if status in PART_CANCELED:
        if refundable > 0:
            return OrderStatus.PARTIALLY_REFUNDED, refundable
        return OrderStatus.REFUNDED, 0
    if status in CANCELED:
        return OrderStatus.REFUNDED, 0
    if status in FAILED:
        return OrderStatus.FAILED, 0
    if status in EXPIRED:
        return OrderStatus.EXPIRED, 0
    return OrderStatus.NOT_PAID_YET, 0


def classify(call: str, http_status: int, code: str) -> type[ProviderError]:
    """Which neutral error a Toss error answer to `call` ("confirm", "cancel", "order") is."""
    if http_status == 401 or code in BAD_KEY:
        return ProviderMisconfigured
    # Nothing was decided: a 5xx may have done the work, a 409 is the first call with this
    # Idempotency-Key still under way, a 429 a pause Toss asked for.
    if http_status >= 500 or http_status in (409, 429) or code == IN_PROCESSING:
        return ProviderUnavailable
    if code == ALREADY_PROCESSED:  # confirmed before: only a look-up says how it ended
        return OutcomeUnknown
    if call == "cancel":
        return RefundRefused
    if call == "confirm":
        if code == SESSION_GONE:
            return PaymentExpired
        if http_status == 403 or code in CARD_REFUSED or code.startswith("EXCEED_MAX_"):
            return PaymentDeclined
    return ProviderRefused


def confirm_key(payment: Payment) -> str:
    """The Idempotency-Key of confirming the buyer's authorisation of this order.

    Toss ties a key to our secret key, the URL and the method, never to the body: the key
    names both the order and the authorisation, so that it means exactly one operation. A
    replayed return sends the same one and gets the first answer back.
    """
    return f"confirm-{payment.partner_order_id}-{payment.provider_key}"


def customer_key(payer_id: str) -> str:
    """The buyer's stable, opaque key at Toss (`customerKey`): an HMAC of the account id with
    SECRET_KEY, so that neither the id nor an email address ever reaches Toss's window."""
    digest = salted_hmac("payments.toss.customer_key", str(payer_id), algorithm="sha256")
    return "c" + digest.hexdigest()[:40]


def sdk_origin() -> str:
    """The origin of the payment window's script (and of the window itself)."""
    parts = urlsplit(settings.TOSS_SDK_URL)
    return f"{parts.scheme}://{parts.netloc}"


def checkout_url(payment: Payment) -> str:
    return f"{settings.PUBLIC_BASE_URL}{CHECKOUT_PATH}{payment.partner_order_id}"


def window_request(payment: Payment) -> dict[str, Any]:
    """What the checkout page hands to the SDK: `TossPayments(clientKey)
    .payment({customerKey}).requestPayment(request)`."""
    return {
        "clientKey": settings.TOSS_CLIENT_KEY,
        "customerKey": customer_key(payment.payer_id),
        "request": {
            "method": "CARD",
            "amount": {"currency": "KRW", "value": payment.amount},
            "orderId": payment.partner_order_id,
            "orderName": (payment.item_name or "FunSun")[:100],
            "successUrl": f"{settings.PUBLIC_BASE_URL}{SUCCESS_PATH}",
            "failUrl": f"{settings.PUBLIC_BASE_URL}{FAIL_PATH}",
        },
    }


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _payments():
    from payments.models import Payment

    return Payment.objects


class TossProvider(PaymentProvider):
    name = NAME
    approves_at_return = True

    def order_validity(self) -> timedelta:
        return ORDER_VALIDITY

    # --- HTTP ----------------------------------------------------------------------------

    def _call(
        self,
        call: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        if not settings.TOSS_SECRET_KEY:
            raise ProviderMisconfigured(
                "TOSS_SECRET_KEY is not set.", raw={"error": "no secret key", "call": call}
            )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response, data = send(
            "Toss",
            call,
            method,
            f"{settings.TOSS_API_BASE_URL}{path}",
            json=body,
            headers=headers,
            # Basic base64("<secret key>:"): the key is the user name, the password empty.
            auth=(settings.TOSS_SECRET_KEY, ""),
            timeout=settings.TOSS_TIMEOUT_SECONDS,
        )
        if data is None:
            # Cut off or not JSON: whatever Toss did, its answer is lost.
            raise ProviderUnavailable(
                f"Toss answered {call} with an unreadable body.",
                raw={"http_status": response.status_code, "body": response.text[:1000]},
            )
        if response.is_success:
            return data
        raise self._error(call, response.status_code, data)

    @staticmethod
    def _error(call: str, http_status: int, data: dict[str, Any]) -> ProviderError:
        raw: dict[str, Any] = {"http_status": http_status, **data}
        code = str(data.get("code") or "")
        message = str(data.get("message") or "no message")
        logger.warning("toss %s answered %s (%s)", call, http_status, code)
        kind = classify(call, http_status, code)
        if kind is ProviderMisconfigured:
            text = f"Toss refused our keys ({code}): {message}"
        elif kind is ProviderUnavailable:
            text = f"Toss failed on {call} ({code or http_status}): {message}"
        else:
            text = f"{message} ({code})"
        return kind(text, raw=raw)

    # --- the interface -------------------------------------------------------------------

    def ready(self, payment: Payment) -> ReadyResult:
        if not (settings.TOSS_SECRET_KEY and settings.TOSS_CLIENT_KEY):
            raise ProviderMisconfigured(
                "TOSS_SECRET_KEY and TOSS_CLIENT_KEY must be set.",
                raw={"error": "keys not set", "provider": NAME},
            )
        # Nothing to open at Toss: the window is opened by our checkout page, for our order.
        url = checkout_url(payment)
        raw = {"orderId": payment.partner_order_id, "checkout_url": url, "provider": NAME}
        return ReadyResult(payment.partner_order_id, url, url, url, raw)

    def approve(self, payment: Payment) -> Answer:
        if not payment.provider_key:
            raise ProviderRefused(
                "the buyer has not authorised the payment at Toss yet",
                raw={"error": "no paymentKey", "provider": NAME},
            )
        raw = self._call(
            "confirm",
            "POST",
            "/v1/payments/confirm",
            {
                "paymentKey": payment.provider_key,
                "orderId": payment.partner_order_id,
                # Toss refuses a confirm of any other amount than the window's.
                "amount": payment.amount,
            },
            idempotency_key=confirm_key(payment),
        )
        if (
            raw.get("orderId") != payment.partner_order_id
            or raw.get("paymentKey") != payment.provider_key
            or _int(raw.get("totalAmount")) != payment.amount
        ):
            raise OutcomeUnknown("Toss answered confirm for another payment.", raw=raw)
        if raw.get("status") not in PAID:
            raise OutcomeUnknown(f"Toss confirmed with status {raw.get('status')}.", raw=raw)
        return Answer(raw)

    def refund(self, payment: Payment, amount: int) -> Answer:
        payment_key = payment.provider_key or self._key_from_order(payment)
        key = self._refund_key(payment)
        believed = payment.amount - payment.refunded_amount
        try:
            raw = self._call(
                "cancel",
                "POST",
                f"/v1/payments/{quote(payment_key, safe='')}/cancel",
                {
                    "cancelReason": CANCEL_REASON,
                    "cancelAmount": amount,
                    # What we believe is still refundable: Toss refuses a cancel of a balance
                    # that changed meanwhile (a refund made under another key).
                    "refundableAmount": believed,
                },
                idempotency_key=key,
            )
        except RefundRefused:
            # Toss remembers its answer under the key for 15 days, refusals included: the
            # next attempt, decided after a look-up, needs a key of its own.
            self._next_refund_key(payment, key)
            raise
        if _int(raw.get("balanceAmount")) != believed - amount:
            raise OutcomeUnknown("Toss's balance after the cancel is not ours.", raw=raw)
        return Answer(raw)

    def lookup(self, payment: Payment) -> Lookup:
        # By our order id, which Toss knows from the window on: the payment of the order that
        # went through (an order goes through at most once), else its latest attempt.
        try:
            raw = self._call(
                "order", "GET", f"/v1/payments/orders/{quote(payment.partner_order_id, safe='')}"
            )
        except ProviderRefused as exc:
            if exc.raw.get("code") == NOT_FOUND:  # no window of this order was authorised
                return Lookup(OrderStatus.NOT_PAID_YET, 0, exc.raw, NOT_FOUND)
            raise
        if raw.get("orderId") != payment.partner_order_id:
            raise ProviderUnavailable("Toss answered a look-up with another order.", raw=raw)
        provider_status = str(raw.get("status") or "")
        status, refundable = order_status(provider_status, _int(raw.get("balanceAmount")))
        if status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED):
            self._remember_key(payment, raw.get("paymentKey"))
        return Lookup(status, refundable, raw, provider_status)

    # --- what this provider keeps in the payment's row -----------------------------------

    def _remember_key(self, payment: Payment, key: Any) -> None:
        """The paymentKey of the order's payment that went through, as Toss says: refunds
        name it (the buyer's return may never have reached us)."""
        if isinstance(key, str) and PAYMENT_KEY.fullmatch(key) and key != payment.provider_key:
            _payments().filter(pk=payment.pk).update(provider_key=key)
            payment.provider_key = key

    def _key_from_order(self, payment: Payment) -> str:
        self.lookup(payment)
        if not payment.provider_key:
            raise RefundRefused(
                "Toss knows no payment of this order that went through.",
                raw={"error": "no paymentKey", "provider": NAME},
            )
        return payment.provider_key

    @staticmethod
    def _refund_key(payment: Payment) -> str:
        """The refund's Idempotency-Key, stored before the call: a retry after an unknown
        outcome reuses it, so Toss carries the refund out once."""
        if not payment.refund_key:
            first = f"refund-{payment.pk}-1"
            _payments().filter(pk=payment.pk, refund_key="").update(refund_key=first)
            payment.refund_key = (
                _payments().filter(pk=payment.pk).values_list("refund_key", flat=True).get()
            )
        return payment.refund_key

    @staticmethod
    def _next_refund_key(payment: Payment, used: str) -> None:
        prefix, _, number = used.rpartition("-")
        following = f"{prefix}-{int(number) + 1 if number.isdigit() else 1}"
        if _payments().filter(pk=payment.pk, refund_key=used).update(refund_key=following):
            payment.refund_key = following

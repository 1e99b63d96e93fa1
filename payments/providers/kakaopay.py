"""Kakao Pay online single payment over HTTPS (docs/KAKAO.md): ready, approve, cancel, order.

Every Kakao Pay code and status lives here and is translated into the core's neutral terms
(payments/providers/base.py): the rest of the project never sees them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings

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
    callback_url,
    send,
)

if TYPE_CHECKING:
    from payments.models import Payment

logger = logging.getLogger(__name__)

# A tid may be approved during 15 minutes after ready.
TID_VALIDITY = timedelta(minutes=15)

# /order `status` values, by what they mean for our money.
PAID = frozenset({"SUCCESS_PAYMENT"})
PART_CANCELED = frozenset({"PART_CANCEL_PAYMENT"})
CANCELED = frozenset({"CANCEL_PAYMENT"})
NOT_PAID_YET = frozenset(
    {"READY", "SEND_TMS", "OPEN_PAYMENT", "SELECT_METHOD", "ARS_WAITING", "AUTH_PASSWORD"}
)
FAILED = frozenset({"FAIL_AUTH_PASSWORD", "QUIT_PAYMENT", "FAIL_PAYMENT"})

# Error codes that matter to us (docs/KAKAO.md).
BAD_KEY = -401
NOT_FINISHED = -701
ALREADY_APPROVED = -702
PARTNER_ORDER_MISMATCH = -706
PARTNER_USER_MISMATCH = -707
BAD_PG_TOKEN = -708
CANCEL_TOO_MUCH = -710
UNKNOWN_TID = -721
EXPIRED = -723
APPROVE_FAILED = -780
CANCEL_FAILED = -781
CANCEL_WRONG_STATE = -784
DUPLICATE_REQUEST = -785
USER_LOCKED = "USER_LOCKED"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _total(value: Any) -> int | None:
    """Kakao gives amounts as {"total": n, ...} (or a bare number in some answers)."""
    return _int(value.get("total") if isinstance(value, dict) else value)


def order_status(status: str, cancel_available: int | None) -> tuple[OrderStatus, int]:
    """An /order `status` in the core's terms, with what is still refundable."""
    refundable = cancel_available or 0
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
    # NOT_PAID_YET, and any status Kakao adds later: not known to be paid. Expiry is
    # decided from the tid's age (order_validity), as Kakao's /order keeps the status.
    return OrderStatus.NOT_PAID_YET, 0


def classify(call: str, http_status: int, code: int | None, method_result_code: Any) -> type:
    """Which neutral error a Kakao error answer to `call` is."""
    if code == BAD_KEY or http_status == 401:
        return ProviderMisconfigured
    if http_status >= 500:
        return ProviderUnavailable
    # After these only /order says what happened (docs/KAKAO.md, "Errors and what the code does").
    if code in (ALREADY_APPROVED, DUPLICATE_REQUEST) or method_result_code == USER_LOCKED:
        return OutcomeUnknown
    if call == "cancel":
        return RefundRefused
    if call == "approve":
        if code == EXPIRED:
            return PaymentExpired
        if code in (APPROVE_FAILED, UNKNOWN_TID):
            return PaymentDeclined
    return ProviderRefused


class KakaoPayProvider(PaymentProvider):
    name = "kakaopay"

    def order_validity(self) -> timedelta:
        return TID_VALIDITY

    def _post(self, call: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{settings.KAKAOPAY_API_BASE_URL}/online/v1/payment/{call}"
        headers = {
            "Authorization": f"SECRET_KEY {settings.KAKAOPAY_SECRET_KEY}",
            "Content-Type": "application/json",
        }
        # Longer than Kakao's own 11 s: a slow approve is still answered, not guessed at.
        response, data = send(
            "Kakao Pay",
            f"/{call}",
            "POST",
            url,
            json=body,
            headers=headers,
            timeout=settings.KAKAOPAY_TIMEOUT_SECONDS,
        )
        if response.is_success:
            if data is not None:
                return data
            raise ProviderUnavailable(
                f"Kakao Pay answered /{call} with an unreadable body.",
                raw={"http_status": response.status_code, "body": response.text[:1000]},
            )
        raise self._error(call, response, data)

    @staticmethod
    def _error(call: str, response: httpx.Response, data: Any) -> ProviderError:
        raw: dict[str, Any] = {"http_status": response.status_code}
        if isinstance(data, dict):
            raw.update(data)
        else:
            raw["body"] = response.text[:1000]
        code = _int(raw.get("error_code"))
        extras = raw.get("extras") if isinstance(raw.get("extras"), dict) else {}
        method_result_code = extras.get("method_result_code")
        message = str(
            extras.get("method_result_message") or raw.get("error_message") or "no message"
        )
        logger.warning(
            "kakaopay /%s answered %s (code %s, %s)",
            call,
            response.status_code,
            code,
            method_result_code,
        )
        kind = classify(call, response.status_code, code, method_result_code)
        if kind is ProviderMisconfigured:
            text = f"Kakao Pay refused our credentials ({code}): {message}"
        elif kind is ProviderUnavailable:
            text = f"Kakao Pay failed on /{call} ({code or response.status_code}): {message}"
        else:
            text = f"{message} ({code})"
        return kind(text, raw=raw)

    def ready(self, payment: Payment) -> ReadyResult:
        raw = self._post(
            "ready",
            {
                "cid": settings.KAKAOPAY_CID,
                "partner_order_id": payment.partner_order_id,
                "partner_user_id": str(payment.payer_id),
                "item_name": payment.item_name[:100],
                "quantity": 1,
                "total_amount": payment.amount,
                "tax_free_amount": 0,
                "approval_url": callback_url("approval"),
                "cancel_url": callback_url("cancel"),
                "fail_url": callback_url("fail"),
            },
        )
        tid = raw.get("tid")
        app_url = raw.get("next_redirect_app_url")
        if not isinstance(tid, str) or not tid or not app_url:
            raise ProviderUnavailable(
                "Kakao Pay answered /ready without a tid or redirect URL.", raw=raw
            )
        return ReadyResult(
            tid=tid,
            next_redirect_app_url=app_url,
            next_redirect_mobile_url=raw.get("next_redirect_mobile_url") or app_url,
            next_redirect_pc_url=raw.get("next_redirect_pc_url") or app_url,
            raw=raw,
        )

    def approve(self, payment: Payment) -> Answer:
        return Answer(
            self._post(
                "approve",
                {
                    "cid": settings.KAKAOPAY_CID,
                    "tid": payment.tid,
                    "partner_order_id": payment.partner_order_id,
                    "partner_user_id": str(payment.payer_id),
                    "pg_token": payment.pg_token,
                    # Kakao refuses an approval of any other amount.
                    "total_amount": payment.amount,
                },
            )
        )

    def refund(self, payment: Payment, amount: int) -> Answer:
        return Answer(
            self._post(
                "cancel",
                {
                    "cid": settings.KAKAOPAY_CID,
                    "tid": payment.tid,
                    "cancel_amount": amount,
                    "cancel_tax_free_amount": 0,
                    # What we believe is still cancellable: a repeated cancel is refused.
                    "cancel_available_amount": payment.amount - payment.refunded_amount,
                },
            )
        )

    def lookup(self, payment: Payment) -> Lookup:
        raw = self._post("order", {"cid": settings.KAKAOPAY_CID, "tid": payment.tid})
        provider_status = str(raw.get("status") or "")
        status, refundable = order_status(
            provider_status, _total(raw.get("cancel_available_amount"))
        )
        return Lookup(status, refundable, raw, provider_status)

"""Kakao Pay online single payment over HTTPS (KAKAO.md): ready, approve, cancel, order."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings

from payments.providers.base import (
    BAD_KEY,
    PaymentProvider,
    ProviderAnswer,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderUnavailable,
    ReadyResult,
    callback_url,
    item_name,
)

if TYPE_CHECKING:
    from payments.models import Payment

logger = logging.getLogger(__name__)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _answer(raw: dict[str, Any]) -> ProviderAnswer:
    amount = raw.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    canceled = raw.get("canceled_amount")
    if isinstance(canceled, dict):
        canceled = canceled.get("total")
    available = raw.get("cancel_available_amount")
    if isinstance(available, dict):
        available = available.get("total")
    return ProviderAnswer(
        raw=raw,
        status=str(raw.get("status") or ""),
        amount=_int(total),
        canceled_amount=_int(canceled) or 0,
        cancel_available_amount=_int(available),
    )


class KakaoPayProvider(PaymentProvider):
    name = "kakaopay"

    def _post(self, call: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{settings.KAKAOPAY_API_BASE_URL}/online/v1/payment/{call}"
        headers = {
            "Authorization": f"SECRET_KEY {settings.KAKAOPAY_SECRET_KEY}",
            "Content-Type": "application/json",
        }
        # Longer than Kakao's own 11 s: a slow approve is still answered, not guessed at.
        timeout = httpx.Timeout(settings.KAKAOPAY_TIMEOUT_SECONDS)
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            logger.warning("kakaopay /%s timed out (tid %s)", call, body.get("tid"))
            raise ProviderUnavailable(
                f"Kakao Pay did not answer /{call} in time.", raw={"error": "timeout", "call": call}
            ) from exc
        except httpx.HTTPError as exc:
            logger.warning("kakaopay /%s failed: %s", call, exc.__class__.__name__)
            raise ProviderUnavailable(
                f"Kakao Pay could not be reached for /{call}.",
                raw={"error": exc.__class__.__name__, "call": call},
            ) from exc

        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success:
            if isinstance(data, dict):
                return data
            raise ProviderUnavailable(
                f"Kakao Pay answered /{call} with an unreadable body.",
                http_status=response.status_code,
                raw={"http_status": response.status_code, "body": response.text[:1000]},
            )

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
        kwargs = {
            "code": code,
            "method_result_code": method_result_code,
            "http_status": response.status_code,
            "raw": raw,
        }
        if code == BAD_KEY or response.status_code == 401:
            raise ProviderMisconfigured(
                f"Kakao Pay refused our credentials ({code}): {message}", **kwargs
            )
        if response.status_code >= 500:
            raise ProviderUnavailable(
                f"Kakao Pay failed on /{call} ({code or response.status_code}): {message}",
                **kwargs,
            )
        raise ProviderRefused(f"{message} ({code})", **kwargs)

    def ready(self, payment: Payment) -> ReadyResult:
        raw = self._post(
            "ready",
            {
                "cid": settings.KAKAOPAY_CID,
                "partner_order_id": payment.partner_order_id,
                "partner_user_id": str(payment.payer_id),
                "item_name": item_name(payment),
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

    def approve(self, payment: Payment) -> ProviderAnswer:
        return _answer(
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

    def cancel(self, payment: Payment, amount: int) -> ProviderAnswer:
        return _answer(
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

    def order(self, payment: Payment) -> ProviderAnswer:
        return _answer(self._post("order", {"cid": settings.KAKAOPAY_CID, "tid": payment.tid}))

"""Contributions given from a funding's web page (web/): the same money rules as the app's.

Step 1 goes through services.checkout.start_payment and records a WebGift (funding, message)
with the payment; crediting is services.contributions.credit_payment, as POST /remit/ does,
so every invariant (visibility, goal, one contribution per payment, refund of what cannot be
credited) holds alike. What the web adds: the payment itself is credited by the page the
buyer returns to, or by `credit_left_behind` (a job) when the buyer never came back.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from accounts.models import Account
from fundings.errors import FundingClosed, NoApprovedPayment
from fundings.models import Contribution, WebGift
from fundings.services.checkout import start_payment
from fundings.services.contributions import credit_payment
from payments import services as payments
from payments.models import Payment, PaymentState
from payments.providers import ReadyResult

logger = logging.getLogger(__name__)

# The return page normally credits within seconds; the job leaves it this long first. It must
# stay well below PAYMENT_CREDIT_GRACE_MINUTES, after which reconciliation refunds.
LEFT_BEHIND_AFTER = timedelta(minutes=1)


def start_web_gift(
    *, payer: Account, funding_id: int, amount: int, message: str
) -> tuple[Payment, ReadyResult]:
    """Step 1 for the web: a payment bound to the funding, its gift recorded with it."""
    payment, result = start_payment(
        payer=payer, amount=amount, funding_id=funding_id, message=message
    )
    WebGift.objects.create(payment=payment, funding_id=funding_id, message=message)
    return payment, result


def web_gift(*, payer: Account, payment_id: int) -> WebGift | None:
    return (
        WebGift.objects.select_related("payment")
        .filter(payment_id=payment_id, payment__payer=payer)
        .first()
    )


def _credit(gift: WebGift) -> Contribution | None:
    """Credit the gift's payment if it is approved and not yet credited; None when there is
    nothing to credit (a replay, or credited meanwhile)."""
    payment = gift.payment
    if payment.state != PaymentState.APPROVED:
        return None
    try:
        return credit_payment(
            payer=payment.payer,
            funding_id=gift.funding_id,
            amount=payment.amount,
            message=gift.message,
        )
    except NoApprovedPayment:
        return None  # credited (or refunded) by a concurrent request meanwhile


def finish_web_gift(*, gift: WebGift, pg_token: str) -> Contribution | None:
    """The buyer is back from the provider: approve (sandbox, Kakao Pay: with the approval
    token; Toss approved at its own return) and credit. Repeating it credits nothing more.
    Raises the services' errors: InvalidInput/ProviderFailed when the payment was not
    approved, FundingClosed when the funding could not take it (the payment is refunded)."""
    payment = gift.payment
    if payment.state == PaymentState.READY:
        if pg_token:
            payments.store_pg_token(payer=payment.payer, pg_token=pg_token, tid=payment.tid)
            payment.refresh_from_db()
        gift.payment = payments.approve(payment)
    return _credit(gift)


def contribution_of(gift: WebGift) -> Contribution | None:
    return Contribution.objects.filter(payment_id=gift.payment_id).first()


def credit_left_behind(*, now=None) -> int:
    """Credit approved web gifts whose buyer did not come back to the return page (closed
    the tab after paying), instead of letting reconciliation refund them. Over-goal or a
    closed funding: credit_payment refunds, as for the app. Returns how many were credited."""
    now = now or timezone.now()
    waiting = WebGift.objects.select_related("payment", "payment__payer").filter(
        payment__state=PaymentState.APPROVED,
        payment__approved_on__lte=now - LEFT_BEHIND_AFTER,
    )
    credited = 0
    for gift in waiting.order_by("payment__approved_on", "pk")[:200]:
        try:
            contribution = _credit(gift)
        except FundingClosed as exc:
            logger.info("web gift of payment %s not credited: %s", gift.payment_id, exc.detail)
            continue
        if contribution is not None:
            credited += 1
            logger.info("web gift of payment %s credited after the buyer left", gift.payment_id)
    return credited

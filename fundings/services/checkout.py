"""Paying for a funding: start a payment bound to it, and choose the payment a credit uses.

Payments know nothing of fundings (they sit below them): the binding of a payment to the
funding it was started for is recorded here, in FundingPayment.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q

from accounts.models import Account
from fundings.errors import FundingClosed
from fundings.models import FundingPayment
from fundings.selectors import visible_fundings
from funsun.api.errors import NotFound
from payments import services as payments
from payments.models import Payment, PaymentState
from payments.providers import ReadyResult


def start_payment(
    *, payer: Account, amount: int, funding_id: int | None = None, message: str = ""
) -> tuple[Payment, ReadyResult]:
    """Step 1: open an order at the provider, bound to `funding_id` when given.

    A funding must be one the payer sees (else 404, like a missing one, so that neither its
    existence nor its amounts leak) that can still take `amount` (else 409). Only an early
    courtesy, so that the buyer is not sent to pay for nothing: crediting checks again under
    the funding's lock.
    """
    if funding_id is None:
        return payments.start_payment(payer=payer, amount=amount, message=message)
    funding = (
        visible_fundings(payer)
        .filter(pk=funding_id)
        .only("title", "state", "expire_on", "goal_amount", "current_amount")
        .first()
    )
    if funding is None:
        raise NotFound("Funding not found.")
    if not funding.is_open:
        raise FundingClosed(f"This funding is {funding.status} and takes no more money.")
    remaining = funding.goal_amount - funding.current_amount
    if amount > remaining:
        raise FundingClosed(f"This funding needs only {remaining} KRW more.")
    with transaction.atomic():
        payment = payments.create_payment(
            payer=payer, amount=amount, item_name=funding.title, message=message
        )
        FundingPayment.objects.create(payment=payment, funding_id=funding_id)
    return payment, payments.open_order(payment)


def creditable_payment(
    *, payer: Account, amount: int, funding_id: int, exclude: Iterable[int] = ()
) -> Payment | None:
    """An approved, not yet credited payment of `payer` for exactly `amount`, usable for
    `funding_id` (started for it, or for no funding). Bound ones first, then the oldest."""
    bound_to = "funding_payment__funding_id"
    return (
        Payment.objects.filter(payer=payer, amount=amount, state=PaymentState.APPROVED)
        .filter(Q(**{bound_to: funding_id}) | Q(funding_payment__isnull=True))
        .exclude(pk__in=list(exclude))
        .order_by(F(bound_to).asc(nulls_last=True), "approved_on", "id")
        .first()
    )

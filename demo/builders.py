"""Rows as the services leave them, without the services' provider calls.

Shared by the demo data (demo/data.py) and the test factories (tests/factories.py). Every
payment and contribution row a builder makes is created here, in `payment` and
`credited_contribution`: a change to how a payment is bound to its funding is made in this
one place.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account
from fundings.models import Contribution, Funding, FundingPayment
from payments.models import Payment, PaymentEvent, PaymentState


def payment(
    *,
    payer: Account,
    amount: int,
    funding: Funding | None,
    message: str = "",
    state: str = PaymentState.CREDITED,
    when: datetime | None = None,
) -> Payment:
    """A sandbox payment in `state`, as if the provider had answered, with its log entry."""
    when = when or timezone.now()
    captured = state in (PaymentState.CREDITED, PaymentState.REFUNDED)
    refunded = state == PaymentState.REFUNDED
    created = Payment.objects.create(
        payer=payer,
        amount=amount,
        item_name=funding.title if funding is not None else "",
        message=message,
        provider="sandbox",
        partner_order_id=f"seed-{uuid.uuid4().hex}",
        tid=f"T{uuid.uuid4().hex[:18]}",
        state=state,
        created_on=when,
        approved_on=when if captured else None,
        credited_on=when if captured else None,
        refunded_amount=amount if refunded else 0,
        refunded_on=when if refunded else None,
    )
    PaymentEvent.objects.create(
        payment=created,
        kind="seeded",
        to_state=state,
        note="built without a provider call (demo or test data)",
        created_on=when,
    )
    if funding is not None:  # started for this funding (step 1 with `funding`)
        FundingPayment.objects.create(payment=created, funding=funding)
    return created


@transaction.atomic
def credited_contribution(
    funding: Funding,
    contributor: Account,
    amount: int = 10_000,
    *,
    message: str = "Happy birthday!",
    created_on: datetime | None = None,
    refunded: bool = False,
) -> Contribution:
    """A contribution backed by a credited sandbox payment, `current_amount` raised by it (in
    the database and on `funding`); with `refunded`, a refunded payment and contribution
    that no longer count."""
    when = created_on or timezone.now()
    paid = payment(
        payer=contributor,
        amount=amount,
        funding=funding,
        message=message,
        state=PaymentState.REFUNDED if refunded else PaymentState.CREDITED,
        when=when,
    )
    contribution = Contribution.objects.create(
        funding=funding,
        contributor=contributor,
        amount=amount,
        message=message,
        payment=paid,
        created_on=when,
        refunded_on=when if refunded else None,
    )
    if not refunded:
        Funding.objects.filter(pk=funding.pk).update(current_amount=F("current_amount") + amount)
        funding.refresh_from_db(fields=["current_amount"])
    return contribution

"""Helpers for the fundings tests: real contribution rows and a look at stored files."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from fundings.models import Contribution, Funding
from payments.models import Payment, PaymentState


def add_contribution(
    funding: Funding,
    contributor,
    amount: int = 10_000,
    *,
    message: str = "Happy birthday!",
    created_on=None,
    refunded: bool = False,
) -> Contribution:
    """A contribution backed by a credited sandbox payment, as the money code leaves it.

    A refunded one leaves `current_amount` alone; a credited one adds to it.
    """
    when = created_on or timezone.now()
    payment = Payment.objects.create(
        payer=contributor,
        amount=amount,
        funding=funding,
        message=message,
        provider="sandbox",
        partner_order_id=f"test-{uuid.uuid4().hex}",
        tid=f"T{uuid.uuid4().hex[:18]}",
        state=PaymentState.REFUNDED if refunded else PaymentState.CREDITED,
        approved_on=when,
        refunded_amount=amount if refunded else 0,
        refunded_on=when if refunded else None,
    )
    contribution = Contribution.objects.create(
        funding=funding,
        contributor=contributor,
        amount=amount,
        message=message,
        payment=payment,
        created_on=when,
        refunded_on=when if refunded else None,
    )
    if not refunded:
        Funding.objects.filter(pk=funding.pk).update(current_amount=F("current_amount") + amount)
    return contribution


@pytest.fixture
def contribute():
    return add_contribution


def stored_files() -> list[str]:
    """Every file under this test's MEDIA_ROOT, relative to it."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

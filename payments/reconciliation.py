"""The reconciliation job: money the provider holds that our books did not finish with.

Run every minute (the periodic job in payments/tasks.py, or `manage.py reconcile_payments`),
from any number of machines at once: every row is taken with a guarded UPDATE (a state move
or a lease), so that one process, and only one, talks to the provider about a payment at a
time, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import operator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from payments import services
from payments.models import Payment, PaymentState
from payments.providers import PROVIDERS, ProviderError, get_provider

logger = logging.getLogger(__name__)

BATCH = 200


def credit_grace() -> timedelta:
    """How long an approved payment may wait for its POST /remit/ before it is refunded."""
    return timedelta(minutes=settings.PAYMENT_CREDIT_GRACE_MINUTES)


@dataclass
class Report:
    refunded: int = 0  # approved but never credited, given back
    refunds_finished: int = 0  # refunds left half-way (failed call, crash), finished
    approved: int = 0  # found paid at the provider although our books said not yet
    expired: int = 0
    failed: int = 0
    pending: int = 0  # checked, not paid yet, still within the order's validity
    errors: int = 0  # provider calls that failed: tried again next run

    def __str__(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self))


def _refund_uncredited(payment_id: int, report: Report) -> None:
    outcome = services.refund_uncredited(
        payment_id=payment_id, reason="approved but never credited: reconciliation"
    )
    if outcome is True:
        report.refunded += 1
    elif outcome is False:
        report.errors += 1
    # None: someone else (a late POST /remit/, another reconciler) took it first.


def _past_validity(now: datetime) -> Q:
    """Ready payments older than their provider's order validity."""
    return reduce(
        operator.or_,
        (
            Q(provider=name, created_on__lte=now - provider().order_validity())
            for name, provider in PROVIDERS.items()
        ),
    )


def _settle_ready(payment: Payment, report: Report) -> None:
    """A ready payment past its order's validity, or whose approve ended unknown."""
    if not payment.tid:
        # The provider never gave us a tid: nobody can have paid it.
        if services.transition(
            payment.pk,
            from_states=[PaymentState.READY],
            to_state=PaymentState.EXPIRED,
            kind="expired",
            note="no tid was ever stored",
        ):
            report.expired += 1
        return
    provider = get_provider(payment.provider)
    try:
        lookup = provider.lookup(payment)
    except ProviderError as exc:
        services.record_event(payment.pk, "order_failed", raw=exc.raw, note=exc.message)
        report.errors += 1
        return
    outcome = services.settle_from_lookup(payment, lookup, expire=True)
    setattr(report, outcome, getattr(report, outcome) + 1)
    if outcome == "approved" and payment.created_on + provider.order_validity() <= timezone.now():
        # Paid, but long after anyone could still be waiting to credit it (our approve
        # must have crashed): an approved, uncredited payment, given back now.
        _refund_uncredited(payment.pk, report)


def reconcile() -> Report:
    report = Report()
    now = timezone.now()

    # 1. Approved, never credited, past the grace period: refund. The state move
    #    approved -> refunding is the claim; a concurrent POST /remit/ either credited it
    #    first (the move fails) or finds it gone (402).
    stale = Payment.objects.filter(
        state=PaymentState.APPROVED, approved_on__lt=now - credit_grace()
    ).order_by("approved_on", "id")
    for payment_id in stale.values_list("pk", flat=True)[:BATCH]:
        _refund_uncredited(payment_id, report)

    # 2. Refunds decided but not confirmed by the provider: a failed call, a holder that
    #    died mid-call (its lease lapsed), or a refund whose job never came (the process
    #    crashed between the commit and the enqueue): one left unleased longer than a lease
    #    lasts. A fresh unleased refund is its job's (services/refunds.py).
    unfinished = Payment.objects.filter(state=PaymentState.REFUNDING).filter(
        Q(claimed_until__lt=now)
        | Q(claimed_until__isnull=True, needs_check=True)
        | Q(
            claimed_until__isnull=True,
            updated_on__lt=now - timedelta(seconds=services.claim_seconds()),
        )
    )
    for payment_id in unfinished.order_by("updated_on", "id").values_list("pk", flat=True)[:BATCH]:
        if services.claim(payment_id, state=PaymentState.REFUNDING):
            if services.finish_refund(payment_id=payment_id, lookup_first=True):
                report.refunds_finished += 1
            else:
                report.errors += 1

    # 3. Ready payments: an approve that ended unknown, or an order past its validity.
    #    The provider may have been paid all the same: its lookup decides.
    waiting = Payment.objects.filter(state=PaymentState.READY).filter(
        Q(needs_check=True) | _past_validity(now)
    )
    for payment_id in waiting.order_by("created_on", "id").values_list("pk", flat=True)[:BATCH]:
        if not services.claim(payment_id, state=PaymentState.READY):
            continue
        try:
            payment = Payment.objects.get(pk=payment_id)
            _settle_ready(payment, report)
        finally:
            services.release(payment_id)

    if any(getattr(report, f.name) for f in fields(report)):
        logger.info("reconciliation: %s", report)
    return report

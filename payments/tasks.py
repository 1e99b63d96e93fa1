"""Payments' background jobs (huey; README "Background jobs").

`refund_payment`: one payment per job, enqueued when the transaction that decided the refund
commits. It takes the payment's lease and calls the provider; a refund the provider did not
confirm is tried again with an exponential back-off (capped), then given up: the payment
stays `refunding` (flagged for a check, visible in the payments admin), the job is listed
under "Failed jobs", and reconciliation keeps trying every minute.

`settle_notice`: a provider's notice that an order changed (Toss's webhook) is acted on here,
so that the webhook answers at once: the provider's lookup is asked and our books follow it.

`reconcile_payments`: payments.reconciliation, every minute, one run at a time across every
consumer (a huey lock; a second copy is skipped, and a run is safe even beside another).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task, on_commit_task

from payments.models import Payment
from payments.reconciliation import reconcile
from payments.services.journey import settle_on_notice
from payments.services.refunds import RefundProgress, begin_refund, refund_by_job

logger = logging.getLogger(__name__)

# Tries after the first: 30 s, 1, 2, 4, 8, 16, 32 minutes, then hourly; about 7 hours in all.
REFUND_RETRIES = 12
REFUND_FIRST_DELAY_SECONDS = 30
REFUND_MAX_DELAY_SECONDS = 3600


class RefundNotConfirmed(Exception):
    """The provider has not confirmed the refund yet: huey runs the job again later."""


@on_commit_task(
    retries=REFUND_RETRIES,
    retry_delay=REFUND_FIRST_DELAY_SECONDS,
    retry_backoff=2,
    context=True,
    name="refund_payment",
)
def refund_payment(payment_id: int, task=None) -> None:
    """Refund one payment in `refunding` at the provider (idempotent: under the payment's
    lease, a repeat after an unknown outcome asks the provider's lookup first)."""
    progress = refund_by_job(payment_id=payment_id)
    if progress == RefundProgress.DONE:
        return
    if task is not None:
        # huey doubles the delay after each try; it never grows past the cap.
        task.retry_delay = min(task.retry_delay, REFUND_MAX_DELAY_SECONDS)
    if progress == RefundProgress.IN_PROGRESS:
        # Another process holds the lease: look again later, it may fail.
        raise RefundNotConfirmed(f"payment {payment_id}: another process is refunding it")
    raise RefundNotConfirmed(f"payment {payment_id}: the provider did not confirm the refund")


class NoticeNotSettled(Exception):
    """The provider's lookup failed: huey asks again later (reconciliation does too)."""


@on_commit_task(retries=5, retry_delay=30, retry_backoff=2, name="settle_notice")
def settle_notice(payment_id: int) -> str:
    """Act on a provider's notice about one payment (idempotent: the lookup decides)."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        return "gone"
    outcome = settle_on_notice(payment)
    logger.info("notice about payment %s: %s", payment_id, outcome)
    if outcome == "unknown":
        raise NoticeNotSettled(f"payment {payment_id}: the provider's lookup failed")
    return outcome


def refund_in_background(*, payment_id: int, from_states: Iterable[str], reason: str) -> bool:
    """Decide a refund inside the caller's transaction; its job is enqueued when that
    transaction commits (never if it rolls back). False when the payment was not in one of
    `from_states` (someone else decided first): nothing is enqueued."""
    if not begin_refund(payment_id=payment_id, from_states=from_states, reason=reason, lease=False):
        return False
    refund_payment(payment_id)
    return True


@db_periodic_task(crontab(minute="*"), name="reconcile_payments")
@lock_task("reconcile_payments")
def reconcile_payments() -> None:
    reconcile()  # logs what it did, when it did anything

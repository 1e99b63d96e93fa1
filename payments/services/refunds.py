"""Money going back: decide a refund, carry it out at the provider, finish one left half-way.

Deciding (`begin_refund`: -> refunding) is a guarded move that the caller may make inside
its own transaction; the provider is called afterwards, outside any transaction, by whoever
holds the payment's lease (`finish_refund`): the deciding process itself (`lease=True`), or
the payment's refund job (`lease=False`; payments/tasks.py, enqueued when the decision
commits, takes the lease with `refund_by_job`). A refund the provider did not confirm stays
`refunding`, flagged `needs_check`, and the job's retries or reconciliation finish it.

Who may take a `refunding` payment:
- lease held (`claimed_until` in the future): nobody but its holder;
- lease lapsed: its holder died mid-call; reconciliation (or a job) takes over, asking the
  provider's lookup first;
- no lease, `needs_check`: an attempt failed; the job's next retry or reconciliation;
- no lease, no check: decided, waiting for its job; reconciliation takes it only once it
  has waited longer than a lease lasts (the enqueue was lost: a crash right after commit).
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from payments.models import Payment, PaymentState
from payments.providers import OrderStatus, ProviderError, RefundRefused, get_provider
from payments.services.transitions import claim, claim_seconds, record_event, release, transition

logger = logging.getLogger(__name__)

# How long a request that finds a refund being carried out by another process waits for
# its outcome, polling the row: a provider's refund usually answers well within this.
REFUND_WAIT_POLLS = 20
REFUND_WAIT_INTERVAL_SECONDS = 0.1


class RefundProgress(enum.StrEnum):
    DONE = "done"  # the provider confirmed the refund (or nothing was left to refund)
    IN_PROGRESS = "in_progress"  # another process is talking to the provider about it
    UNCONFIRMED = "unconfirmed"  # the provider failed: reconciliation retries it


def begin_refund(
    *, payment_id: int, from_states: Iterable[str], reason: str, lease: bool = True
) -> bool:
    """Decide that the money goes back: -> refunding.

    For a credited payment call it inside the transaction that takes the money out of what
    it bought, so that both happen or neither. The provider is called afterwards, outside
    that transaction: with `lease=True` by this process, which holds the lease from now on
    (`finish_refund`); with `lease=False` by the payment's refund job, which takes the lease
    itself (`refund_by_job`).
    """
    return transition(
        payment_id,
        from_states=from_states,
        to_state=PaymentState.REFUNDING,
        kind="refund_requested",
        note=reason,
        claimed_until=(timezone.now() + timedelta(seconds=claim_seconds())) if lease else None,
    )


def _mark_refunded(payment: Payment, raw: dict[str, Any], kind: str) -> None:
    transition(
        payment.pk,
        from_states=[PaymentState.REFUNDING],
        to_state=PaymentState.REFUNDED,
        kind=kind,
        raw=raw,
        refunded_amount=payment.amount,
        refunded_on=timezone.now(),
        needs_check=False,
        claimed_until=None,
    )


def finish_refund(*, payment_id: int, lookup_first: bool = False) -> bool:
    """Refund at the provider a payment in `refunding` whose lease this process holds.

    True once the provider gave the money back. On a failure the payment stays in
    `refunding`, flagged `needs_check`, with its lease released: reconciliation finishes it
    (looking the order up first, so that a refund that did happen is never repeated).
    """
    payment = Payment.objects.get(pk=payment_id)
    if payment.state == PaymentState.REFUNDED:
        return True
    if payment.state != PaymentState.REFUNDING:
        return False
    provider = get_provider(payment.provider)
    remaining = payment.amount - payment.refunded_amount
    try:
        if lookup_first:
            lookup = provider.lookup(payment)
            note = f"before refund: {lookup.provider_status or lookup.status}"
            record_event(payment.pk, "order", raw=lookup.raw, note=note)
            if lookup.status == OrderStatus.REFUNDED:
                _mark_refunded(payment, lookup.raw, "refunded_per_order")
                return True
            if lookup.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
                # Our books say captured, the provider says otherwise: a person must look.
                logger.error(
                    "payment %s is refunding but the provider reports %s",
                    payment.pk,
                    lookup.provider_status or lookup.status,
                )
                release(payment.pk, needs_check=True)
                return False
        answer = provider.refund(payment, remaining)
    except RefundRefused as exc:
        record_event(payment.pk, "refund_refused", raw=exc.raw, note=exc.message)
        if not lookup_first:
            # A refund that already happened is refused (the refundable amount no longer
            # matches): the provider's lookup says what is true.
            return finish_refund(payment_id=payment_id, lookup_first=True)
        release(payment.pk, needs_check=True)
        return False
    except ProviderError as exc:
        record_event(payment.pk, "refund_error", raw=exc.raw, note=exc.message)
        release(payment.pk, needs_check=True)
        return False
    _mark_refunded(payment, answer.raw, "refunded")
    return True


def refund_uncredited(*, payment_id: int, reason: str) -> bool | None:
    """Give back an approved payment that nothing was credited with.

    None when the payment was not approved-and-uncredited any more (credited or refunded
    by someone else meanwhile); else whether the provider confirmed the refund.
    """
    if not begin_refund(payment_id=payment_id, from_states=[PaymentState.APPROVED], reason=reason):
        return None
    return finish_refund(payment_id=payment_id)


def retry_refund(*, payment_id: int) -> bool:
    """Finish a refund left in `refunding` (a failed provider call, or a crash), if no
    other process is on it. True if the payment is refunded."""
    if not claim(payment_id, state=PaymentState.REFUNDING):
        return Payment.objects.filter(pk=payment_id, state=PaymentState.REFUNDED).exists()
    return finish_refund(payment_id=payment_id, lookup_first=True)


def refund_by_job(*, payment_id: int) -> RefundProgress:
    """The refund job's step: take the lease and refund, unless another process holds it.

    A payment whose earlier attempt failed (`needs_check`) is looked up first, so that a
    refund that happened after all is recorded, never repeated. Nothing left to refund
    (refunded meanwhile) is DONE.
    """
    if not claim(payment_id, state=PaymentState.REFUNDING):
        state = Payment.objects.filter(pk=payment_id).values_list("state", flat=True).first()
        if state == PaymentState.REFUNDING:
            return RefundProgress.IN_PROGRESS
        if state != PaymentState.REFUNDED:
            logger.error("refund job for payment %s found it %s", payment_id, state)
        return RefundProgress.DONE
    checked = Payment.objects.filter(pk=payment_id, needs_check=True).exists()
    if finish_refund(payment_id=payment_id, lookup_first=checked):
        return RefundProgress.DONE
    return RefundProgress.UNCONFIRMED


def await_refund(*, payment_id: int) -> RefundProgress:
    """For a request that finds the refund already decided (repeated, or racing the one
    that decided it): finish it if nobody is on it, else wait a moment for whoever is.

    Never a second refund: the provider is called only by the holder of the lease.
    """
    for poll in range(REFUND_WAIT_POLLS):
        if claim(payment_id, state=PaymentState.REFUNDING):
            if finish_refund(payment_id=payment_id, lookup_first=True):
                return RefundProgress.DONE
            return RefundProgress.UNCONFIRMED
        state = Payment.objects.filter(pk=payment_id).values_list("state", flat=True).first()
        if state != PaymentState.REFUNDING:  # refunded (or never refunding): nothing to do
            return RefundProgress.DONE
        if poll + 1 < REFUND_WAIT_POLLS:
            time.sleep(REFUND_WAIT_INTERVAL_SECONDS)
    return RefundProgress.IN_PROGRESS

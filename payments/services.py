"""Every write to a payment: the journey (ready, pg_token, approve), crediting and refunds.

A payment moves through `ready -> approved -> credited`, `ready -> failed | expired` and
`approved | credited -> refunding -> refunded` (PRODUCT.md). Each move is a guarded UPDATE
(`... WHERE state IN (...)`), so that of two processes racing for the same move exactly one
wins, and each move writes a PaymentEvent with the provider's raw answer. Provider calls are
made outside any transaction: a row is never locked while we wait for the network.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account
from funsun.api.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    UpstreamError,
)
from payments.models import Payment, PaymentEvent, PaymentState
from payments.providers import (
    ProviderAnswer,
    ProviderError,
    ProviderMisconfigured,
    ProviderRefused,
    ReadyResult,
    get_provider,
)
from payments.providers import base as kakao

logger = logging.getLogger(__name__)

# States in which the provider holds money of ours that is not given back yet.
CAPTURED = (PaymentState.APPROVED, PaymentState.CREDITED, PaymentState.REFUNDING)


def claim_seconds() -> int:
    """How long a process may talk to the provider about one payment before others may.

    Far longer than the few provider calls it makes, each bounded by the client time-out.
    """
    return settings.PAYMENT_CLAIM_SECONDS


def new_partner_order_id() -> str:
    """Ours, unique, and stored before the provider hears of the order."""
    return f"funsun-{uuid.uuid4().hex}"


# --- events and transitions ---------------------------------------------------------------


def record_event(
    payment_id: int,
    kind: str,
    *,
    from_state: str = "",
    to_state: str = "",
    raw: dict[str, Any] | None = None,
    note: str = "",
) -> PaymentEvent:
    return PaymentEvent.objects.create(
        payment_id=payment_id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        provider_response=raw,
        note=note[:255],
    )


def transition(
    payment_id: int,
    *,
    from_states: Iterable[str],
    to_state: str,
    kind: str,
    raw: dict[str, Any] | None = None,
    note: str = "",
    likely: str | None = None,
    now: datetime | None = None,
    savepoint: bool = True,
    **fields: Any,
) -> bool:
    """Move the payment to `to_state` if it is in one of `from_states`; True if we moved it.

    Idempotent and race-safe: the UPDATE carries the expected state, so a second caller
    (another request, another machine) changes nothing and gets False. The event is written
    in the same transaction. `likely` names the state the caller believes the payment is in:
    one guarded UPDATE then settles it (the event needs the state it came from); the state
    is read under a row lock only when it was not that one. `savepoint=False` inside a
    caller's transaction that must fail as a whole if this fails (crediting).
    """
    from_states = tuple(from_states)
    now = now or timezone.now()
    with transaction.atomic(savepoint=savepoint):
        guess = likely if likely in from_states else None
        if guess is None and len(from_states) == 1:
            guess = from_states[0]
        moved = 0
        if guess is not None:
            moved = Payment.objects.filter(pk=payment_id, state=guess).update(
                state=to_state, updated_on=now, **fields
            )
        current = guess
        if not moved and (guess is None or len(from_states) > 1):
            current = (
                Payment.objects.select_for_update()
                .filter(pk=payment_id, state__in=from_states)
                .values_list("state", flat=True)
                .first()
            )
            if current is not None:
                moved = Payment.objects.filter(pk=payment_id, state=current).update(
                    state=to_state, updated_on=now, **fields
                )
        if not moved:
            return False
        record_event(payment_id, kind, from_state=current, to_state=to_state, raw=raw, note=note)
    logger.info("payment %s: %s -> %s (%s)", payment_id, current, to_state, kind)
    return True


def claim(payment_id: int, *, state: str) -> bool:
    """Take the payment's lease (see Payment.claimed_until) if nobody holds it."""
    now = timezone.now()
    return bool(
        Payment.objects.filter(pk=payment_id, state=state)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=claim_seconds()))
    )


def release(payment_id: int, **fields: Any) -> None:
    Payment.objects.filter(pk=payment_id).update(claimed_until=None, **fields)


def provider_error(exc: ProviderError, action: str) -> DomainError:
    """A provider failure as the API reports it: the buyer's or request's fault is a 400,
    anything on our side or the provider's (bad key, 5xx, time-out) a 502."""
    if isinstance(exc, ProviderRefused):
        return InvalidInput(f"The payment provider refused to {action}: {exc.message}")
    return UpstreamError(f"The payment provider failed to {action}: {exc.message}")


# --- step 1: ready ------------------------------------------------------------------------


# Who may see which funding is the fundings app's rule (fundings.selectors.visible_fundings).
# payments sits below fundings and may not import it: fundings installs it here at start-up
# (FundingsConfig.ready), as a function of the viewer returning the visible fundings.
visible_fundings: Callable[[Account], Any] | None = None


def _check_funding(funding_id: int, amount: int, payer: Account) -> None:
    """A payment bound early must name a funding the payer sees that can still take `amount`.

    Only an early courtesy (the buyer is not sent to pay for nothing): crediting checks
    again under the funding's lock. A funding the payer may not see is a 404 like a missing
    one, so that neither its existence nor its amounts leak.
    """
    if visible_fundings is None:
        raise ImproperlyConfigured("The fundings app did not install its visibility rule.")
    funding = (
        visible_fundings(payer)
        .filter(pk=funding_id)
        .only("state", "expire_on", "goal_amount", "current_amount")
        .first()
    )
    if funding is None:
        raise NotFound("Funding not found.")
    if not funding.is_open:
        raise Conflict(f"This funding is {funding.status} and takes no more money.")
    remaining = funding.goal_amount - funding.current_amount
    if amount > remaining:
        raise Conflict(f"This funding needs only {remaining} KRW more.")


def start_payment(
    *, payer: Account, amount: int, funding_id: int | None = None, message: str = ""
) -> tuple[Payment, ReadyResult]:
    """Step 1: open an order at the provider and return where the buyer pays."""
    if funding_id is not None:
        _check_funding(funding_id, amount, payer)
    provider = get_provider()
    with transaction.atomic():
        payment = Payment.objects.create(
            payer=payer,
            amount=amount,
            funding_id=funding_id,
            message=message,
            provider=provider.name,
            partner_order_id=new_partner_order_id(),
            **provider.new_order_fields(),
        )
        record_event(payment.pk, "created", to_state=PaymentState.READY)
    try:
        result = provider.ready(payment)
    except ProviderError as exc:
        transition(
            payment.pk,
            from_states=[PaymentState.READY],
            to_state=PaymentState.FAILED,
            kind="ready_failed",
            raw=exc.raw,
            note=exc.message,
        )
        raise provider_error(exc, "start the payment") from exc
    # Before anything else: the tid is the only handle the provider gives us on the order.
    now = timezone.now()
    with transaction.atomic():
        stored = Payment.objects.filter(pk=payment.pk, tid__isnull=True).update(
            tid=result.tid, updated_on=now
        )
        record_event(payment.pk, "ready", raw=result.raw)
    if stored:
        payment.tid, payment.updated_on = result.tid, now
    else:  # not a fresh payment after all: answer what the database holds
        payment.refresh_from_db()
    return payment, result


# --- step 3: the pg_token -----------------------------------------------------------------


def store_pg_token(*, payer: Account, pg_token: str, tid: str | None = None) -> Payment:
    """Step 3: keep the token of the buyer's approval on their latest ready payment (or the
    one with `tid`). Posting the same token again changes nothing."""
    mine = Payment.objects.filter(payer=payer)
    if tid:
        payment = mine.filter(tid=tid).first()
        if payment is None:
            raise NotFound("No payment of yours has this tid.")
    else:
        same = mine.filter(pg_token=pg_token).order_by("-created_on", "-id").first()
        if same is not None:
            return same
        payment = (
            mine.filter(state=PaymentState.READY, tid__isnull=False)
            .order_by("-created_on", "-id")
            .first()
        )
        if payment is None:
            raise NotFound("No payment of yours is waiting for approval.")
    if payment.pg_token == pg_token:
        return payment
    now = timezone.now()
    with transaction.atomic():
        stored = Payment.objects.filter(pk=payment.pk, state=PaymentState.READY).update(
            pg_token=pg_token, updated_on=now
        )
        if stored:
            record_event(payment.pk, "pg_token", note="approval token received")
    if not stored:
        raise Conflict(f"This payment is {payment.state}; it takes no new approval token.")
    # The row is as read plus this UPDATE: no need to read it again.
    payment.pg_token, payment.updated_on = pg_token, now
    return payment


# --- step 4: approve ----------------------------------------------------------------------


def _mark_approved(
    payment_id: int,
    raw: dict[str, Any],
    kind: str = "approved",
    likely: str | None = None,
    now: datetime | None = None,
) -> bool:
    # From expired or failed too: if the provider says it captured the money, it did, and
    # the money must then be credited or refunded, never forgotten.
    now = now or timezone.now()
    return transition(
        payment_id,
        from_states=[PaymentState.READY, PaymentState.EXPIRED, PaymentState.FAILED],
        to_state=PaymentState.APPROVED,
        kind=kind,
        raw=raw,
        likely=likely,
        now=now,
        approved_on=now,
        needs_check=False,
    )


def settle_from_order(payment: Payment, order: ProviderAnswer, *, expire: bool) -> str:
    """Act on the provider's /order status for a payment not known to be approved.

    Returns what the payment now is: "approved", "refunded", "failed", "expired" or
    "pending" (not paid yet, still within the tid's validity, or `expire` False).
    """
    status = order.status
    if status in kakao.PAID or (
        status in kakao.PART_CANCELED and (order.cancel_available_amount or 0) > 0
    ):
        _mark_approved(payment.pk, order.raw, kind="approved_per_order")
        return "approved"
    if status in kakao.CANCELED:
        transition(
            payment.pk,
            from_states=[PaymentState.READY, PaymentState.EXPIRED, PaymentState.FAILED],
            to_state=PaymentState.REFUNDED,
            kind="refunded_per_order",
            raw=order.raw,
            refunded_amount=payment.amount,
            refunded_on=timezone.now(),
            needs_check=False,
        )
        return "refunded"
    if status in kakao.FAILED:
        transition(
            payment.pk,
            from_states=[PaymentState.READY],
            to_state=PaymentState.FAILED,
            kind="failed_per_order",
            raw=order.raw,
            needs_check=False,
        )
        return "failed"
    if expire and payment.created_on + kakao.TID_VALIDITY <= timezone.now():
        transition(
            payment.pk,
            from_states=[PaymentState.READY],
            to_state=PaymentState.EXPIRED,
            kind="expired",
            raw=order.raw,
            needs_check=False,
        )
        return "expired"
    # Definitely not paid (yet): nothing left to check until the buyer acts or it expires.
    Payment.objects.filter(pk=payment.pk, state=PaymentState.READY).update(needs_check=False)
    record_event(payment.pk, "order", raw=order.raw, note=f"not paid yet: {status}")
    return "pending"


def _approve_from_order(payment: Payment, cause: ProviderError) -> Payment:
    """The approve's outcome is unknown (-702, -785, USER_LOCKED, 5xx, time-out): ask /order."""
    record_event(payment.pk, "approve_unknown", raw=cause.raw, note=cause.message)
    try:
        order = get_provider(payment.provider).order(payment)
    except ProviderError as exc:
        # Nobody knows whether the money was captured: reconciliation asks again later.
        Payment.objects.filter(pk=payment.pk).update(needs_check=True, updated_on=timezone.now())
        record_event(payment.pk, "order_failed", raw=exc.raw, note=exc.message)
        raise UpstreamError(
            "The payment provider did not confirm the approval; it will be checked again "
            "automatically. Try again in a minute."
        ) from exc
    outcome = settle_from_order(payment, order, expire=False)
    payment.refresh_from_db()
    if outcome == "approved":
        return payment
    if outcome == "pending":
        if isinstance(cause, ProviderRefused):
            raise InvalidInput(f"The payment provider refused to approve: {cause.message}")
        raise UpstreamError(
            f"The payment provider did not approve the payment ({cause.message}); try again."
        )
    raise InvalidInput(f"The payment was not approved: the provider reports it {outcome}.")


def approve(payment: Payment) -> Payment:
    """Ask the provider to capture the money of `payment`; idempotent."""
    if payment.state in (PaymentState.APPROVED, PaymentState.CREDITED):
        return payment
    if payment.state in (PaymentState.REFUNDING, PaymentState.REFUNDED):
        raise Conflict("This payment was refunded.")
    if payment.state == PaymentState.EXPIRED:
        raise InvalidInput("This payment expired before it was approved; start a new one.")
    if payment.state == PaymentState.FAILED:
        raise InvalidInput("This payment failed; start a new one.")
    provider = get_provider(payment.provider)
    try:
        answer = provider.approve(payment)
    except ProviderMisconfigured as exc:
        record_event(payment.pk, "approve_error", raw=exc.raw, note=exc.message)
        raise provider_error(exc, "approve the payment") from exc
    except ProviderRefused as exc:
        if exc.outcome_unknown:
            return _approve_from_order(payment, exc)
        record_event(payment.pk, "approve_refused", raw=exc.raw, note=exc.message)
        if exc.code == kakao.EXPIRED:
            transition(
                payment.pk,
                from_states=[PaymentState.READY],
                to_state=PaymentState.EXPIRED,
                kind="expired",
                raw=exc.raw,
            )
        elif exc.code in (kakao.APPROVE_FAILED, kakao.UNKNOWN_TID):
            transition(
                payment.pk,
                from_states=[PaymentState.READY],
                to_state=PaymentState.FAILED,
                kind="failed",
                raw=exc.raw,
            )
        raise provider_error(exc, "approve the payment") from exc
    except ProviderError as exc:  # unavailable: 5xx, time-out, network
        return _approve_from_order(payment, exc)
    now = timezone.now()
    if _mark_approved(payment.pk, answer.raw, likely=payment.state, now=now):
        # What the UPDATE wrote: no need to read the row again.
        payment.state, payment.needs_check = PaymentState.APPROVED, False
        payment.approved_on = payment.updated_on = now
    else:  # moved meanwhile by another process: answer what it is now
        payment.refresh_from_db()
    return payment


def approve_latest(*, payer: Account) -> Payment:
    """Step 4: approve the caller's latest payment that holds a pg_token."""
    payment = (
        Payment.objects.filter(payer=payer)
        .exclude(pg_token="")
        .order_by("-created_on", "-id")
        .first()
    )
    if payment is None:
        raise NotFound("No payment of yours holds an approval token: post the pg_token first.")
    return approve(payment)


# --- crediting (called by fundings inside its funding-locked transaction) ------------------


def creditable_payment(
    *, payer: Account, amount: int, funding_id: int, exclude: Iterable[int] = ()
) -> Payment | None:
    """An approved, not yet credited payment of `payer` for exactly `amount`, usable for
    `funding_id` (bound to it, or to no funding). Bound ones first, then the oldest."""
    return (
        Payment.objects.filter(payer=payer, amount=amount, state=PaymentState.APPROVED)
        .filter(Q(funding_id=funding_id) | Q(funding__isnull=True))
        .exclude(pk__in=list(exclude))
        .order_by(F("funding_id").asc(nulls_last=True), "approved_on", "id")
        .first()
    )


def mark_credited(*, payment_id: int, funding_id: int) -> bool:
    """approved -> credited. Call inside the transaction that creates the contribution."""
    return transition(
        payment_id,
        from_states=[PaymentState.APPROVED],
        to_state=PaymentState.CREDITED,
        kind="credited",
        note=f"credited to funding {funding_id}",
        # Part of the crediting transaction: if this fails, the whole credit does.
        savepoint=False,
        credited_on=timezone.now(),
        funding_id=funding_id,
    )


# --- refunds ------------------------------------------------------------------------------


def begin_refund(*, payment_id: int, from_states: Iterable[str], reason: str) -> bool:
    """Decide that the money goes back: -> refunding, holding the lease for this process.

    For a credited payment call it inside the transaction that takes the contribution out
    of its funding, so that both happen or neither. The provider is called afterwards
    (`finish_refund`), outside that transaction.
    """
    return transition(
        payment_id,
        from_states=from_states,
        to_state=PaymentState.REFUNDING,
        kind="refund_requested",
        note=reason,
        claimed_until=timezone.now() + timedelta(seconds=claim_seconds()),
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


def finish_refund(*, payment_id: int, check_order_first: bool = False) -> bool:
    """Cancel at the provider a payment in `refunding` whose lease this process holds.

    True once the provider gave the money back. On a failure the payment stays in
    `refunding`, flagged `needs_check`, with its lease released: reconciliation finishes it
    (asking /order first, so that a cancel that did happen is never repeated).
    """
    payment = Payment.objects.get(pk=payment_id)
    if payment.state == PaymentState.REFUNDED:
        return True
    if payment.state != PaymentState.REFUNDING:
        return False
    provider = get_provider(payment.provider)
    remaining = payment.amount - payment.refunded_amount
    try:
        if check_order_first:
            order = provider.order(payment)
            record_event(payment.pk, "order", raw=order.raw, note=f"before cancel: {order.status}")
            if order.status in kakao.CANCELED:
                _mark_refunded(payment, order.raw, "refunded_per_order")
                return True
            if order.status not in kakao.PAID | kakao.PART_CANCELED:
                # Our books say captured, the provider says otherwise: a person must look.
                logger.error(
                    "payment %s is refunding but the provider reports %s", payment.pk, order.status
                )
                release(payment.pk, needs_check=True)
                return False
        answer = provider.cancel(payment, remaining)
    except ProviderRefused as exc:
        record_event(payment.pk, "refund_refused", raw=exc.raw, note=exc.message)
        if not check_order_first:
            # A cancel that already happened is refused (cancel_available_amount no longer
            # matches): the provider's /order says what is true.
            return finish_refund(payment_id=payment_id, check_order_first=True)
        release(payment.pk, needs_check=True)
        return False
    except ProviderError as exc:
        record_event(payment.pk, "refund_error", raw=exc.raw, note=exc.message)
        release(payment.pk, needs_check=True)
        return False
    _mark_refunded(payment, answer.raw, "refunded")
    return True


def refund_uncredited(*, payment_id: int, reason: str) -> bool | None:
    """Give back an approved payment that no contribution holds.

    None when the payment was not approved-and-uncredited any more (credited or refunded
    by someone else meanwhile); else whether the provider confirmed the refund.
    """
    if not begin_refund(payment_id=payment_id, from_states=[PaymentState.APPROVED], reason=reason):
        return None
    return finish_refund(payment_id=payment_id)


def retry_refund(*, payment_id: int) -> bool:
    """Finish a refund left in `refunding` (a failed provider call, or a crash), if no
    other process is on it."""
    if not claim(payment_id, state=PaymentState.REFUNDING):
        return Payment.objects.filter(pk=payment_id, state=PaymentState.REFUNDED).exists()
    return finish_refund(payment_id=payment_id, check_order_first=True)

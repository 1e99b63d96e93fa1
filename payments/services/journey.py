"""A payment's way in: start it at the provider, keep the buyer's approval token, approve
(capture) it, and settle it from the provider's lookup when an answer was lost.

Provider calls are made outside any transaction: a row is never locked while we wait for
the network. What a payment is for (a funding, ...) is the caller's business: payments
know only the amount, the payer and the name the buyer sees at checkout.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from funsun.api.errors import DomainError, InvalidInput, NotFound, ProviderFailed
from payments.errors import PaymentNotWaiting, PaymentRefunded
from payments.models import Payment, PaymentState
from payments.providers import (
    Lookup,
    OrderStatus,
    OutcomeUnknown,
    PaymentDeclined,
    PaymentExpired,
    ProviderError,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderUnavailable,
    ReadyResult,
    get_provider,
)
from payments.services.refunds import retry_refund
from payments.services.transitions import CAPTURED, claim, record_event, release, transition

logger = logging.getLogger(__name__)

DEFAULT_ITEM_NAME = "FunSun gift"


def new_partner_order_id() -> str:
    """Ours, unique, and stored before the provider hears of the order."""
    return f"funsun-{uuid.uuid4().hex}"


def provider_error(exc: ProviderError, action: str) -> DomainError:
    """A provider failure as the API reports it: a refusal (the buyer's or the request's
    fault) is a 400; anything on our side or the provider's (bad key, 5xx, time-out) a 502."""
    if isinstance(exc, ProviderRefused | OutcomeUnknown) and not isinstance(
        exc, ProviderUnavailable
    ):
        return InvalidInput(f"The payment provider refused to {action}: {exc.message}")
    return ProviderFailed(f"The payment provider failed to {action}: {exc.message}")


# --- step 1: ready ------------------------------------------------------------------------


def create_payment(
    *, payer: Account, amount: int, item_name: str = DEFAULT_ITEM_NAME, message: str = ""
) -> Payment:
    """A new payment, ready and not yet known to the provider (see `open_order`).

    Makes no savepoint of its own: called inside a caller's transaction (one that records
    what the payment is for), it commits or fails with it.
    """
    provider = get_provider()
    with transaction.atomic(savepoint=False):
        payment = Payment.objects.create(
            payer=payer,
            amount=amount,
            item_name=item_name[: Payment._meta.get_field("item_name").max_length],
            message=message,
            provider=provider.name,
            partner_order_id=new_partner_order_id(),
            **provider.new_order_fields(),
        )
        record_event(payment.pk, "created", to_state=PaymentState.READY)
    return payment


def open_order(payment: Payment) -> ReadyResult:
    """Open the order of a committed, new payment at its provider: where the buyer pays."""
    try:
        result = get_provider(payment.provider).ready(payment)
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
    # The provider's handle goes into the log first: it is our only handle on the order.
    record_event(payment.pk, "ready", raw=result.raw)
    if payment.tid == result.tid:  # the provider gave it with the INSERT (the sandbox)
        return result
    now = timezone.now()
    if Payment.objects.filter(pk=payment.pk, tid__isnull=True).update(
        tid=result.tid, updated_on=now
    ):
        payment.tid, payment.updated_on = result.tid, now
    else:  # not a fresh payment after all: answer what the database holds
        payment.refresh_from_db()
    return result


def start_payment(
    *, payer: Account, amount: int, item_name: str = DEFAULT_ITEM_NAME, message: str = ""
) -> tuple[Payment, ReadyResult]:
    """Step 1: a new payment, its order opened at the provider."""
    payment = create_payment(payer=payer, amount=amount, item_name=item_name, message=message)
    return payment, open_order(payment)


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
        raise PaymentNotWaiting(f"This payment is {payment.state}; it takes no new approval token.")
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


def settle_from_lookup(payment: Payment, lookup: Lookup, *, expire: bool) -> str:
    """Act on the provider's lookup of a payment not known to be approved.

    Returns what the payment now is: "approved", "refunded", "failed", "expired" or
    "pending" (not paid yet, and still valid or `expire` False).
    """
    status = lookup.status
    if status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        _mark_approved(payment.pk, lookup.raw, kind="approved_per_order")
        return "approved"
    final = {
        OrderStatus.REFUNDED: (PaymentState.REFUNDED, "refunded_per_order"),
        OrderStatus.FAILED: (PaymentState.FAILED, "failed_per_order"),
        OrderStatus.EXPIRED: (PaymentState.EXPIRED, "expired"),
    }
    validity = get_provider(payment.provider).order_validity()
    if status == OrderStatus.NOT_PAID_YET and expire:
        if payment.created_on + validity <= timezone.now():
            status = OrderStatus.EXPIRED
    if status in final:
        to_state, kind = final[status]
        # Refunded: whatever our books said, nothing is held any more.
        sources = [PaymentState.READY]
        fields: dict[str, Any] = {"needs_check": False}
        if to_state == PaymentState.REFUNDED:
            sources = [PaymentState.READY, PaymentState.EXPIRED, PaymentState.FAILED]
            fields.update(refunded_amount=payment.amount, refunded_on=timezone.now())
        transition(
            payment.pk, from_states=sources, to_state=to_state, kind=kind, raw=lookup.raw, **fields
        )
        return str(to_state)
    # Definitely not paid (yet): nothing left to check until the buyer acts or it expires.
    Payment.objects.filter(pk=payment.pk, state=PaymentState.READY).update(needs_check=False)
    record_event(
        payment.pk, "order", raw=lookup.raw, note=f"not paid yet: {lookup.provider_status}"
    )
    return "pending"


def _approve_from_lookup(payment: Payment, cause: ProviderError) -> Payment:
    """The approve's outcome is unknown (no answer, or an answer that leaves it open): ask
    the provider's lookup."""
    record_event(payment.pk, "approve_unknown", raw=cause.raw, note=cause.message)
    try:
        lookup = get_provider(payment.provider).lookup(payment)
    except ProviderError as exc:
        # Nobody knows whether the money was captured: reconciliation asks again later.
        Payment.objects.filter(pk=payment.pk).update(needs_check=True, updated_on=timezone.now())
        record_event(payment.pk, "order_failed", raw=exc.raw, note=exc.message)
        raise ProviderFailed(
            "The payment provider did not confirm the approval; it will be checked again "
            "automatically. Try again in a minute."
        ) from exc
    outcome = settle_from_lookup(payment, lookup, expire=False)
    payment.refresh_from_db()
    if outcome == "approved":
        return payment
    if outcome == "pending":
        if isinstance(cause, ProviderUnavailable):
            # The call that got no answer may still land at the provider: ask again later.
            Payment.objects.filter(pk=payment.pk, state=PaymentState.READY).update(needs_check=True)
            raise ProviderFailed(
                f"The payment provider did not approve the payment ({cause.message}); try again."
            )
        raise InvalidInput(f"The payment provider refused to approve: {cause.message}")
    raise InvalidInput(f"The payment was not approved: the provider reports it {outcome}.")


def approve(payment: Payment) -> Payment:
    """Ask the provider to capture the money of `payment`; idempotent."""
    if payment.state in (PaymentState.APPROVED, PaymentState.CREDITED):
        return payment
    if payment.state in (PaymentState.REFUNDING, PaymentState.REFUNDED):
        raise PaymentRefunded
    if payment.state == PaymentState.EXPIRED:
        raise InvalidInput("This payment expired before it was approved; start a new one.")
    if payment.state == PaymentState.FAILED:
        raise InvalidInput("This payment failed; start a new one.")
    try:
        answer = get_provider(payment.provider).approve(payment)
    except ProviderMisconfigured as exc:
        record_event(payment.pk, "approve_error", raw=exc.raw, note=exc.message)
        raise provider_error(exc, "approve the payment") from exc
    except ProviderRefused as exc:
        record_event(payment.pk, "approve_refused", raw=exc.raw, note=exc.message)
        final = {PaymentExpired: PaymentState.EXPIRED, PaymentDeclined: PaymentState.FAILED}
        to_state = next((s for kind, s in final.items() if isinstance(exc, kind)), None)
        if to_state is not None:
            transition(
                payment.pk,
                from_states=[PaymentState.READY],
                to_state=to_state,
                kind=str(to_state),
                raw=exc.raw,
            )
        raise provider_error(exc, "approve the payment") from exc
    except ProviderError as exc:  # the outcome is unknown: the provider's lookup says
        return _approve_from_lookup(payment, exc)
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


# --- providers that approve at the buyer's return ----------------------------------------


def order_payment(*, provider: str, order_id: str) -> Payment | None:
    """The payment of our order `order_id` at `provider` (the provider names our order)."""
    return Payment.objects.filter(provider=provider, partner_order_id=order_id).first()


def _returned_again(payment: Payment, provider_key: str) -> Payment:
    """A return for an order that no longer waits: a replay of the one that approved it is
    answered from our books (the provider is not asked again); anything else is refused."""
    if payment.state != PaymentState.APPROVED or payment.provider_key != provider_key:
        raise PaymentNotWaiting(f"This payment is {payment.state}; nothing was confirmed again.")
    if not payment.pg_token:  # approved by a lookup before the buyer came back
        token = secrets.token_urlsafe(24)
        Payment.objects.filter(pk=payment.pk, pg_token="").update(pg_token=token)
        payment.refresh_from_db(fields=["pg_token"])
    return payment


def approve_at_return(*, provider: str, order_id: str, provider_key: str, amount: int) -> Payment:
    """The buyer came back from a provider that approves at the return, which authorised
    `provider_key` for our order `order_id` and `amount`: approve it now.

    Refused, before the provider hears of it, when `amount` is not the order's (the buyer
    controls the return's address) or the order no longer waits. The approval token the
    app hands over in steps 3-4 is issued here, before the provider is called, so that the
    app's journey does not change whichever way the approval is finally learnt (this answer,
    a lookup, a notice). Idempotent: a replayed return confirms nothing twice.
    """
    payment = order_payment(provider=provider, order_id=order_id)
    if payment is None or not get_provider(payment.provider).approves_at_return:
        raise NotFound("No such order.")
    if amount != payment.amount:
        record_event(
            payment.pk,
            "return_refused",
            raw={"provider_key": provider_key, "amount": amount},
            note=f"the return's amount {amount} is not the order's {payment.amount}",
        )
        raise InvalidInput("The amount is not the order's: the payment was not confirmed.")
    if payment.state != PaymentState.READY:
        return _returned_again(payment, provider_key)
    same = payment.provider_key == provider_key and payment.pg_token
    token = payment.pg_token if same else secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        stored = Payment.objects.filter(pk=payment.pk, state=PaymentState.READY).update(
            provider_key=provider_key, pg_token=token, updated_on=now
        )
        if stored:
            record_event(
                payment.pk,
                "authorised",
                raw={"provider_key": provider_key, "amount": amount},
                note="the buyer came back from the provider",
            )
    if not stored:  # moved meanwhile (another return, a lookup)
        payment.refresh_from_db()
        return _returned_again(payment, provider_key)
    payment.provider_key, payment.pg_token, payment.updated_on = provider_key, token, now
    return approve(payment)


def fail_at_return(*, provider: str, order_id: str, raw: dict[str, Any]) -> Payment | None:
    """The provider sent the buyer back without an authorisation (they quit, or the window
    failed): the order fails, unless an authorisation of it is already being confirmed (then
    that confirm, or the provider's lookup, decides)."""
    payment = order_payment(provider=provider, order_id=order_id)
    if payment is None:
        return None
    if payment.provider_key:
        record_event(payment.pk, "return_failed", raw=raw, note="an authorisation is pending")
        return payment
    transition(
        payment.pk,
        from_states=[PaymentState.READY],
        to_state=PaymentState.FAILED,
        kind="failed_at_return",
        raw=raw,
    )
    return payment


def settle_on_notice(payment: Payment) -> str:
    """The provider notified us that the order changed (a webhook). The notice is a hint,
    never the truth: the provider's lookup is asked and acted on, idempotently. Returns what
    the payment now is, "busy" when another process is checking it right now, or "unknown"
    when the lookup failed (reconciliation asks again)."""
    if payment.state == PaymentState.REFUNDING:
        return "refunded" if retry_refund(payment_id=payment.pk) else "refunding"
    if payment.state == PaymentState.REFUNDED:
        return str(payment.state)
    ready = payment.state == PaymentState.READY
    if ready and not claim(payment.pk, state=PaymentState.READY):
        return "busy"
    try:
        try:
            lookup = get_provider(payment.provider).lookup(payment)
        except ProviderError as exc:
            record_event(payment.pk, "order_failed", raw=exc.raw, note=exc.message)
            Payment.objects.filter(pk=payment.pk, state=PaymentState.READY).update(needs_check=True)
            return "unknown"
        if ready:
            return settle_from_lookup(payment, lookup, expire=False)
        captured = lookup.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
        if payment.state in (PaymentState.FAILED, PaymentState.EXPIRED):
            if captured or lookup.status == OrderStatus.REFUNDED:
                return settle_from_lookup(payment, lookup, expire=False)
        elif payment.state in CAPTURED and lookup.status != OrderStatus.PAID:
            # Our books hold money the provider says it gave back (in part): a person looks.
            logger.error(
                "payment %s is %s but the provider reports %s",
                payment.pk,
                payment.state,
                lookup.provider_status or lookup.status,
            )
            Payment.objects.filter(pk=payment.pk).update(needs_check=True)
            record_event(
                payment.pk, "order", raw=lookup.raw, note="the provider disagrees with our books"
            )
        return str(payment.state)
    finally:
        if ready:
            release(payment.pk)

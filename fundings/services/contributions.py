"""Money into and out of fundings: crediting payments, refunds, cancellation.

The rules (docs/MONEY.md, "Money invariants"): a funding's `current_amount` is the sum of its
credited, not refunded contributions and never passes its goal; every contribution holds
exactly one approved payment; money that cannot be credited goes back to the payer.

Each decision is one transaction with the funding row locked (`select_for_update`; on
SQLite the IMMEDIATE transaction takes the database's write lock) plus guarded UPDATEs that
would refuse a wrong change even without the lock. Provider calls (refunds) come after
the commit, never while the funding is locked: the contributor's own refund waits for the
provider (DELETE /remit/ answers with the outcome); cancelling a funding, deactivating its
author and an operator's refund answer at once, and a job per payment gives the money back
(payments/tasks.py). A refund that the provider does not confirm stays `refunding`; the
job's retries and the reconciliation job finish it.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from accounts.models import Account
from fundings.errors import (
    BooksChangedMeanwhile,
    ContributionRefunded,
    FundingClosed,
    FundingPaidOut,
    NoApprovedPayment,
    NotTheContributor,
    RefundNotConfirmed,
)
from fundings.models import Contribution, Funding, FundingState, Payout
from fundings.selectors import visible_fundings
from fundings.services.checkout import creditable_payment
from fundings.signals import (
    contribution_credited,
    contribution_refunded,
    funding_achieved,
    funding_canceled,
)
from funsun.api.errors import NotFound, StateConflict
from payments import services as payments
from payments.models import Payment, PaymentState
from payments.services import RefundProgress
from payments.tasks import refund_in_background, refund_payment

logger = logging.getLogger(__name__)


class _Taken(Exception):
    """The payment was credited or refunded by a concurrent request: try another one."""


class _Refused(Exception):
    """The funding's guarded update refused the amount: roll the credit back."""


def _closed_reason(funding: Funding | None, amount: int) -> str | None:
    if funding is None:
        return "This funding does not exist."
    if not funding.is_open:
        return f"This funding is {funding.status} and takes no more money."
    remaining = funding.goal_amount - funding.current_amount
    if amount > remaining:
        return f"This funding needs only {remaining} KRW more."
    return None


def _credit_once(
    *, payer: Account, payment_id: int, funding_id: int, amount: int, message: str
) -> Contribution | str:
    """One attempt: the Contribution, or the reason the funding cannot take the money."""
    try:
        return _credit_in_transaction(
            payer=payer,
            payment_id=payment_id,
            funding_id=funding_id,
            amount=amount,
            message=message,
        )
    except _Refused:
        return "This funding cannot take this amount now."


def _credit_in_transaction(
    *, payer: Account, payment_id: int, funding_id: int, amount: int, message: str
) -> Contribution | str:
    # The querysets are built before the transaction begins: on SQLite it holds the
    # database's one write lock from BEGIN, and building these costs more CPU than running
    # them (bench/RESULTS.md). They run, and the clock is read, inside.
    # The lock and the visibility test in one query: a funding the payer may not see is one
    # that does not exist (refunded like it). Only what the checks and the answer read.
    locked = (
        visible_fundings(payer)
        .select_for_update(of=("self",))
        .filter(pk=funding_id)
        .only("id", "author_id", "state", "expire_on", "goal_amount", "current_amount")
    )
    takes_it = Funding.objects.filter(
        pk=funding_id, state=FundingState.OPEN, current_amount__lte=F("goal_amount") - amount
    )
    with transaction.atomic():
        funding = locked.first()
        reason = _closed_reason(funding, amount)
        if reason:
            return reason
        if not payments.mark_credited(
            payment_id=payment_id, note=f"credited to funding {funding_id}"
        ):
            raise _Taken
        contribution = Contribution.objects.create(
            funding=funding,
            contributor=payer,
            amount=amount,
            message=message,
            payment_id=payment_id,
        )
        # SET sees the row as it was: reaching the goal exactly closes the funding.
        added = takes_it.filter(expire_on__gt=timezone.now()).update(
            current_amount=F("current_amount") + amount,
            state=Case(
                When(current_amount=F("goal_amount") - amount, then=Value(FundingState.ACHIEVED)),
                default=F("state"),
            ),
            updated_on=timezone.now(),
        )
        if added != 1:  # impossible under the lock; the guard refuses it all the same
            raise _Refused
        contribution_credited.send(Contribution, contribution=contribution)
        if funding.current_amount + amount == funding.goal_amount:
            funding_achieved.send(Funding, funding_id=funding_id)
    logger.info("payment %s credited to funding %s: %s KRW", payment_id, funding_id, amount)
    return contribution


def credit_payment(*, payer: Account, funding_id: int, amount: int, message: str) -> Contribution:
    """POST /remit/: credit one approved payment of `payer` for `amount` to a funding.

    No such payment: 402, nothing changes. The funding missing (or not visible to the
    payer), closed, or needing less than `amount`: the payment is refunded at the provider
    and 409 is raised.
    """
    tried: set[int] = set()
    while True:
        payment = creditable_payment(
            payer=payer, amount=amount, funding_id=funding_id, exclude=tried
        )
        if payment is None:
            raise NoApprovedPayment(
                f"No approved payment of {amount} KRW is waiting to be credited: pay first."
            )
        tried.add(payment.pk)
        try:
            outcome = _credit_once(
                payer=payer,
                payment_id=payment.pk,
                funding_id=funding_id,
                amount=amount,
                message=message,
            )
        except _Taken:
            continue
        if isinstance(outcome, Contribution):
            return outcome
        refunded = payments.refund_uncredited(
            payment_id=payment.pk, reason=f"funding {funding_id} cannot take it: {outcome}"
        )
        if refunded is None:
            continue  # consumed meanwhile by a concurrent request: not ours to refund
        if refunded:
            raise FundingClosed(f"{outcome} Your payment was refunded.")
        raise FundingClosed(f"{outcome} Your payment will be refunded shortly.")


# --- reads and edits of one contribution ---------------------------------------------------


def _own_contribution(*, contribution_id: int, actor: Account) -> Contribution:
    """The contribution, if `actor` made it: 404 when it does not exist or its funding is
    invisible to the actor, 403 when visible but someone else's."""
    contribution = (
        Contribution.objects.select_related("contributor").filter(pk=contribution_id).first()
    )
    if contribution is None:
        raise NotFound("Contribution not found.")
    if contribution.contributor_id != actor.pk:
        if visible_fundings(actor).filter(pk=contribution.funding_id).exists():
            raise NotTheContributor("This is not your contribution.")
        raise NotFound("Contribution not found.")
    return contribution


def update_message(*, contribution_id: int, actor: Account, message: str) -> Contribution:
    """PUT /remit/: the contributor rewrites their message."""
    contribution = _own_contribution(contribution_id=contribution_id, actor=actor)
    if contribution.refunded_on is not None:
        raise ContributionRefunded("This contribution was refunded.")
    Contribution.objects.filter(pk=contribution.pk).update(message=message)
    contribution.message = message
    return contribution


# --- refunds -------------------------------------------------------------------------------


def _payout_conflict(funding: Funding, *, what: str) -> FundingPaidOut | None:
    """Money can no longer leave a funding once its author asked for it: an operator may be
    transferring it right now. Says which is the case: asked for, or paid out."""
    transferred = list(
        Payout.objects.filter(funding=funding).values_list("transferred_on", flat=True)[:1]
    )
    if funding.state == FundingState.PAID_OUT or (transferred and transferred[0] is not None):
        return FundingPaidOut(f"This funding's money was paid out to its author; {what}.")
    if transferred:
        return FundingPaidOut(f"The author has asked for this funding's money; {what}.")
    return None


def _take_back(
    *, contribution_id: int, require_open: bool, reason: str, background: bool = False
) -> int | None:
    """Take a contribution out of its funding in one transaction, and decide its refund:
    carried out by the caller after the commit (holding the payment's lease), or with
    `background` by a job enqueued when the transaction commits.

    Returns the payment id to refund, or None when the contribution was already refunded.
    """
    with transaction.atomic():
        funding_id = (
            Contribution.objects.filter(pk=contribution_id)
            .values_list("funding_id", flat=True)
            .get()
        )
        funding = Funding.objects.select_for_update().get(pk=funding_id)
        contribution = Contribution.objects.get(pk=contribution_id)
        if contribution.refunded_on is not None:
            return None
        if require_open and not funding.is_open:
            raise FundingClosed(f"This funding is {funding.status}: its contributions stay.")
        conflict = _payout_conflict(funding, what="its contributions can no longer be refunded")
        if conflict:
            raise conflict
        marked = Contribution.objects.filter(pk=contribution_id, refunded_on__isnull=True).update(
            refunded_on=timezone.now()
        )
        taken = Funding.objects.filter(
            pk=funding_id, current_amount__gte=contribution.amount
        ).update(current_amount=F("current_amount") - contribution.amount)
        decide = refund_in_background if background else payments.begin_refund
        started = decide(
            payment_id=contribution.payment_id,
            from_states=[PaymentState.CREDITED],
            reason=reason,
        )
        if not (marked and taken and started):
            # Books that disagree with themselves: change nothing, let a person look.
            logger.error("contribution %s could not be taken back consistently", contribution_id)
            raise BooksChangedMeanwhile("This contribution cannot be refunded right now.")
    logger.info("contribution %s taken out of funding %s: %s", contribution_id, funding_id, reason)
    return contribution.payment_id


def _refund(contribution: Contribution, *, require_open: bool, reason: str) -> RefundProgress:
    """Take the contribution back (if not done yet) and see its payment refunded.

    A request that finds it taken back already (a repeat, or one that lost a race with the
    request that took it back) finishes a refund nobody is carrying out, or waits a moment
    for the one carrying it out: it never refunds twice, and never reports the other's
    refund, still under way, as a failure.
    """
    payment_id = _take_back(
        contribution_id=contribution.pk, require_open=require_open, reason=reason
    )
    if payment_id is None:
        return payments.await_refund(payment_id=contribution.payment_id)
    if payments.finish_refund(payment_id=payment_id):
        return RefundProgress.DONE
    return RefundProgress.UNCONFIRMED


def refund_contribution(
    *, contribution_id: int, actor: Account
) -> tuple[Contribution, RefundProgress]:
    """DELETE /remit/: the contributor takes their money back while the funding is open.

    Repeating it is harmless (200): a refund the provider did not confirm is retried, one
    being carried out by a concurrent request is waited for (a moment) or reported as under
    way. Only a provider failure is a 502.
    """
    contribution = _own_contribution(contribution_id=contribution_id, actor=actor)
    progress = _refund(contribution, require_open=True, reason="canceled by the contributor")
    if progress == RefundProgress.DONE:
        contribution_refunded.send(Contribution, contribution_id=contribution.pk)
    contribution.refresh_from_db()
    if progress == RefundProgress.UNCONFIRMED:
        raise RefundNotConfirmed(
            "The contribution was canceled, but the payment provider did not confirm the "
            "refund yet; it is retried automatically."
        )
    return contribution, progress


def refund_contribution_by_operator(*, contribution: Contribution) -> bool:
    """An operator refunds a contribution (any funding whose payout nobody asked for). The
    funding keeps its state: a closed funding is not reopened. The decision commits at once
    and a job refunds the payment. True when this call took the contribution back; False
    when it was taken back before (a refund still unconfirmed is pushed again)."""
    payment_id = _take_back(
        contribution_id=contribution.pk,
        require_open=False,
        reason="refunded by an operator",
        background=True,
    )
    if payment_id is not None:
        return True
    _push_unconfirmed(Payment.objects.filter(pk=contribution.payment_id))
    return False


def _push_unconfirmed(payments_waiting) -> int:
    """Enqueue again the refund jobs of payments whose last attempt failed (the provider
    did not confirm): an operator's or author's repeat retries now rather than at the job's
    next back-off. Jobs still waiting their turn are left alone."""
    ids = list(
        payments_waiting.filter(state=PaymentState.REFUNDING, needs_check=True).values_list(
            "pk", flat=True
        )
    )
    for payment_id in ids:
        refund_payment(payment_id)
    return len(ids)


def cancel_funding(*, funding: Funding) -> Funding:
    """Cancel a funding and take back every contribution (DELETE /funding/, deactivation).

    One transaction (a savepoint inside the caller's, for a deactivation): the contribution
    rows stay (money records are never deleted), each marked refunded, `current_amount`
    drops to what remains credited (zero), and every payment moves to `refunding`; a refund
    job per payment is enqueued when the outermost transaction commits, so the caller never
    waits for the provider. Idempotent: cancelling a canceled funding pushes refunds the
    provider has not confirmed again.
    """
    with transaction.atomic():
        locked = Funding.objects.select_for_update().filter(pk=funding.pk).first()
        if locked is None:
            raise NotFound("Funding not found.")
        conflict = _payout_conflict(locked, what="it can no longer be canceled")
        if conflict:
            raise conflict
        open_rows = list(
            Contribution.objects.filter(funding=locked, refunded_on__isnull=True).values_list(
                "pk", "payment_id", "amount"
            )
        )
        total = sum(amount for _, _, amount in open_rows)
        now = timezone.now()
        marked = Contribution.objects.filter(
            pk__in=[pk for pk, _, _ in open_rows], refunded_on__isnull=True
        ).update(refunded_on=now)
        changed = Funding.objects.filter(pk=locked.pk, current_amount__gte=total).update(
            current_amount=F("current_amount") - total,
            state=FundingState.CANCELED,
            updated_on=now,
        )
        started = sum(
            refund_in_background(
                payment_id=payment_id,
                from_states=[PaymentState.CREDITED],
                reason=f"funding {locked.pk} canceled",
            )
            for _, payment_id, _ in open_rows
        )
        if marked != len(open_rows) or changed != 1 or started != len(open_rows):
            logger.error("funding %s could not be canceled consistently", locked.pk)
            raise BooksChangedMeanwhile("This funding cannot be canceled right now.")
        # Refunds of an earlier cancellation (or contributor refunds) still unconfirmed.
        pushed = _push_unconfirmed(
            Payment.objects.filter(contribution__funding=locked).exclude(
                pk__in=[payment_id for _, payment_id, _ in open_rows]
            )
        )
        taken_back = [pk for pk, _, _ in open_rows]
        funding_canceled.send(Funding, funding_id=locked.pk, contribution_ids=taken_back)
    logger.info(
        "funding %s canceled; %d refunds decided, %d pushed again",
        locked.pk,
        len(open_rows),
        pushed,
    )
    locked.refresh_from_db()
    return locked


def _cancel_all(fundings, *, why: str) -> int:
    """Cancel each funding in its own savepoint, in primary-key order (the order every
    funding lock is taken in); one whose payout was asked for meanwhile is left out."""
    canceled = 0
    for funding_id in fundings.order_by("pk").values_list("pk", flat=True):
        try:
            cancel_funding(funding=Funding(pk=funding_id))
            canceled += 1
        except StateConflict:
            logger.exception("funding %s (%s) not canceled", funding_id, why)
    return canceled


def _holding_money():
    """Fundings that still hold or take money and whose payout nobody asked for."""
    return Funding.objects.filter(
        state__in=[FundingState.OPEN, FundingState.ACHIEVED], payout__isnull=True
    )


def cancel_fundings_of(*, account: Account) -> int:
    """Cancel every funding of an account being deactivated that still holds or takes money:
    its author can neither receive a payout (the bank account is erased) nor be reached.
    Called inside the deactivation's transaction (accounts' `account_deactivating`), so that
    the deactivation and these cancellations commit together or not at all; the refunds go
    out as jobs after that commit. Fundings already paid out, or whose payout was asked
    for, stay as they are. Returns how many were canceled."""
    return _cancel_all(_holding_money().filter(author=account), why=f"author {account.pk}")


def cancel_fundings_of_inactive_authors() -> int:
    """The repair: any funding of a deactivated author still holding or taking money (left
    by a deactivation from before the two committed together, or by a funding opened while
    the deactivation ran) is canceled and its contributions refunded. Idempotent; run every
    minute (fundings/tasks.py) and by `manage.py reconcile_payments`."""
    stranded = _holding_money().filter(author__is_active=False)
    canceled = _cancel_all(stranded, why="deactivated author")
    if canceled:
        logger.warning("%d fundings of deactivated authors canceled by the repair", canceled)
    return canceled


# --- the admin's action (wired in fundings/admin: ContributionAdmin.actions) ---------------

"""Payouts: the author asks for a finished funding's money; an operator records the transfer.

Money never moves here: the operator transfers it at the bank. This records who asked,
how much and to which account (a snapshot), and later who transferred it, when, with what
reference. Recording the transfer turns the funding `paid_out`, after which it takes no
refunds (refunds need an open funding) and no further payout.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from fundings.errors import NotTheAuthor, PayoutRefused
from fundings.models import Funding, FundingState, FundingStatus, Payout
from fundings.selectors import visible_fundings
from fundings.signals import payout_transferred
from funsun.api.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)

ALREADY_REQUESTED = "The payout of this funding was already requested."


def _payable_or_conflict(funding: Funding) -> None:
    """A payout needs a finished funding with money: achieved, or expired with some."""
    status = funding.status
    if status == FundingStatus.ACHIEVED:
        return
    if status == FundingStatus.EXPIRED and funding.current_amount > 0:
        return
    reasons = {
        FundingStatus.OPEN: "This funding is still open: it can be paid out once it reaches "
        "its goal or expires.",
        FundingStatus.EXPIRED: "This funding expired without any contribution: nothing to pay.",
        FundingStatus.CANCELED: "This funding was canceled and its contributions refunded.",
        FundingStatus.PAID_OUT: "This funding was already paid out.",
    }
    raise PayoutRefused(reasons.get(status, f"A {status} funding cannot be paid out."))


def request_payout(*, author: Account, funding_id: int) -> Payout:
    """Ask for the payout of `author`'s finished funding to their bank account.

    404 if the funding is not visible to them, 403 if they are not its author, 409 if it
    is not finished with money in it or a payout was already requested, 400 without a
    bank account on their profile.
    """
    if not visible_fundings(author).filter(pk=funding_id).exists():
        raise NotFound("Funding not found.")
    with transaction.atomic():
        # The row lock orders this against a concurrent cancel or credit of the funding.
        funding = Funding.objects.select_for_update().get(pk=funding_id)
        if funding.author_id != author.pk:
            raise NotTheAuthor("Only the funding's author can ask for its payout.")
        if Payout.objects.filter(funding=funding).exists():
            raise PayoutRefused(ALREADY_REQUESTED)
        _payable_or_conflict(funding)
        bank_account = (
            Account.objects.filter(pk=author.pk).values_list("bank_account", flat=True).first()
        )
        bank_account = (bank_account or "").strip()
        if not bank_account:
            raise InvalidInput("Set your bank account in your profile before asking for a payout.")
        try:
            with transaction.atomic():
                payout = Payout.objects.create(
                    funding=funding,
                    amount=funding.current_amount,
                    bank_account=bank_account,
                    requested_by=author,
                )
        except IntegrityError as error:
            # One payout per funding (OneToOne): a concurrent request got there first.
            raise PayoutRefused(ALREADY_REQUESTED) from error
    logger.info("payout %s requested: funding %s, %s KRW", payout.pk, funding.pk, payout.amount)
    return payout


def record_transfer(*, payout_id: int, actor: Account, reference: str) -> Payout:
    """Record that an operator transferred the payout; the funding becomes `paid_out`.

    Refused (409) when already recorded, or when the funding is no longer payable
    (canceled meanwhile, or its amount changed since the request): then nothing changes.
    """
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput("Give the bank transfer's reference.")
    if len(reference) > Payout._meta.get_field("reference").max_length:
        raise InvalidInput("The reference is too long (at most 200 characters).")
    funding_id = Payout.objects.filter(pk=payout_id).values_list("funding_id", flat=True).first()
    if funding_id is None:
        raise NotFound("Payout not found.")
    with transaction.atomic():
        # Funding first, as every money service locks it, then the payout: no lock cycles.
        funding = Funding.objects.select_for_update().get(pk=funding_id)
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.transferred_on is not None:
            raise PayoutRefused(f"Payout {payout.pk} was already recorded as transferred.")
        _payable_or_conflict(funding)
        if funding.current_amount != payout.amount:
            raise PayoutRefused(
                f"Funding {funding.pk} now holds {funding.current_amount} KRW, not the "
                f"{payout.amount} KRW requested: do not transfer; check its contributions."
            )
        now = timezone.now()
        # Guarded: only a finished funding still holding exactly the requested amount.
        paid_out = (
            Funding.objects.filter(pk=funding.pk, current_amount=payout.amount)
            .filter(Q(state=FundingState.ACHIEVED) | Q(state=FundingState.OPEN, expire_on__lte=now))
            .update(state=FundingState.PAID_OUT, updated_on=now)
        )
        if paid_out != 1:
            raise PayoutRefused(f"Funding {funding.pk} changed meanwhile; try again.")
        payout.transferred_on = now
        payout.transferred_by = actor
        payout.reference = reference
        payout.save(update_fields=["transferred_on", "transferred_by", "reference"])
        payout_transferred.send(Payout, payout_id=payout.pk)
    logger.info(
        "payout %s transferred (funding %s) recorded by %s", payout.pk, funding.pk, actor.pk
    )
    return payout

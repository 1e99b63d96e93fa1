"""The payment state machine: guarded moves, the event log, and the lease.

A payment moves through `ready -> approved -> credited`, `ready -> failed | expired` and
`approved | credited -> refunding -> refunded` (docs/MONEY.md). Each move is a guarded UPDATE
(`... WHERE state IN (...)`), so that of two processes racing for the same move exactly one
wins, and each move writes a PaymentEvent with the provider's raw answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from payments.models import Payment, PaymentEvent, PaymentState

logger = logging.getLogger(__name__)

# States in which the provider holds money of ours that is not given back yet.
CAPTURED = (PaymentState.APPROVED, PaymentState.CREDITED, PaymentState.REFUNDING)


def claim_seconds() -> int:
    """How long a process may talk to the provider about one payment before others may.

    Far longer than the few provider calls it makes, each bounded by the client time-out.
    """
    return settings.PAYMENT_CLAIM_SECONDS


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


def mark_credited(*, payment_id: int, note: str = "") -> bool:
    """approved -> credited, called by the app that sold something, inside the transaction
    that records what the money bought (a contribution): if this fails, so does that."""
    return transition(
        payment_id,
        from_states=[PaymentState.APPROVED],
        to_state=PaymentState.CREDITED,
        kind="credited",
        note=note,
        savepoint=False,
        credited_on=timezone.now(),
    )

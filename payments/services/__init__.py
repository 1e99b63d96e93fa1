"""Every write to a payment, by concern: the state machine (transitions, crediting among
its moves), the way in (journey: ready, pg_token, approve, settling from the provider's
lookup) and the way back (refunds).

Payments sit below every app that sells something with them: they know a payer, an amount
and the name shown at checkout, never what the money is for.
"""

from payments.services.journey import (
    DEFAULT_ITEM_NAME,
    approve,
    approve_at_return,
    approve_latest,
    create_payment,
    fail_at_return,
    new_partner_order_id,
    open_order,
    order_payment,
    provider_error,
    settle_from_lookup,
    settle_on_notice,
    start_payment,
    store_pg_token,
)
from payments.services.refunds import (
    RefundProgress,
    await_refund,
    begin_refund,
    finish_refund,
    refund_uncredited,
    retry_refund,
)
from payments.services.transitions import (
    CAPTURED,
    claim,
    claim_seconds,
    mark_credited,
    record_event,
    release,
    transition,
)

__all__ = [
    "CAPTURED",
    "DEFAULT_ITEM_NAME",
    "RefundProgress",
    "approve",
    "approve_at_return",
    "approve_latest",
    "await_refund",
    "begin_refund",
    "claim",
    "claim_seconds",
    "create_payment",
    "fail_at_return",
    "finish_refund",
    "mark_credited",
    "new_partner_order_id",
    "open_order",
    "order_payment",
    "provider_error",
    "record_event",
    "refund_uncredited",
    "release",
    "retry_refund",
    "settle_from_lookup",
    "settle_on_notice",
    "start_payment",
    "store_pg_token",
    "transition",
]

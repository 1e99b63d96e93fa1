"""What can go wrong with a payment, in the domain's words (kinds of funsun.api.errors)."""

from funsun.api.errors import StateConflict


class PaymentNotWaiting(StateConflict):
    """The payment is past the step asked for (approved, failed, refunded...)."""


class PaymentRefunded(StateConflict):
    default_detail = "This payment was refunded."

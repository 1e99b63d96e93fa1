"""What can go wrong with fundings, contributions and payouts, in the domain's words.

Each is a kind of funsun.api.errors error; the kind decides the HTTP answer.
"""

from funsun.api.errors import NotPermitted, PaymentMissing, ProviderFailed, StateConflict


class FundingClosed(StateConflict):
    """The funding takes no more money (expired, achieved, canceled), or less than offered."""


class FundingPaidOut(StateConflict):
    """The author asked for the funding's money, or received it: its money stays."""


class ContributionRefunded(StateConflict):
    pass


class BooksChangedMeanwhile(StateConflict):
    """A concurrent change left the rows differently than the decision expected: retry."""


class PayoutRefused(StateConflict):
    """The funding cannot be paid out (not finished, already asked, transfer recorded)."""


class NotTheAuthor(NotPermitted):
    default_detail = "Only the author may change this funding."


class NotTheContributor(NotPermitted):
    default_detail = "This is not your contribution."


class NoApprovedPayment(PaymentMissing):
    """POST /remit/ with no approved, uncredited payment of the caller for the amount."""


class RefundNotConfirmed(ProviderFailed):
    """The provider has not confirmed a refund yet; it is retried automatically."""

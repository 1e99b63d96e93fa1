"""Domain errors: services raise what happened, in the domain's words.

Each app names its own errors (e.g. `fundings.errors.FundingClosed`) as subclasses of one of
the kinds below. The kind alone decides the HTTP answer, in one place:
`funsun.api.exceptions.STATUS_OF_KIND`. Services never speak HTTP.
"""


class DomainError(Exception):
    default_detail = "The request could not be completed."

    def __init__(self, detail: str | None = None):
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class InvalidInput(DomainError):
    """The request's values break a rule (a field, a limit, a state the caller controls)."""

    default_detail = "Invalid input."


class NotSignedIn(DomainError):
    """Wrong credentials, or a token that cannot be used: the app signs in again."""

    default_detail = "Authentication failed."


class PaymentMissing(DomainError):
    """Money was to be credited, but no approved payment backs it."""

    default_detail = "No approved payment matches this contribution."


class NotPermitted(DomainError):
    """The caller may see the thing but not do this to it."""

    default_detail = "You may not do this."


class NotFound(DomainError):
    """It does not exist, or the caller may not see it (the two answer alike)."""

    default_detail = "Not found."


class StateConflict(DomainError):
    """The thing's state does not allow this (now): closed, already done, taken meanwhile."""

    default_detail = "This cannot be done in the current state."


class TooLarge(DomainError):
    default_detail = "Request body too large."


class ProviderFailed(DomainError):
    """A provider (Kakao, a payment provider) failed in a way that is not the caller's fault."""

    default_detail = "The payment provider did not answer properly."


class TemporarilyUnavailable(DomainError):
    default_detail = "Service temporarily unavailable."

"""Domain errors. Services raise them; the exception handler maps them to HTTP."""

from rest_framework import status


class DomainError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."

    def __init__(self, detail: str | None = None):
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class InvalidInput(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid input."


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You do not have permission to perform this action."


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."


class PaymentRequired(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_detail = "No approved payment matches this contribution."


class PayloadTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."


class UpstreamError(DomainError):
    """A provider (Kakao) failed in a way that is not the caller's fault."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The payment provider did not answer properly."


class ServiceUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service temporarily unavailable."

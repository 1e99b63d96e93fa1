"""The one interface every payment provider speaks, modelled on Kakao Pay's single payment.

A provider is stateless: whatever it must remember lives in the database (the sandbox) or
at the provider (Kakao Pay), because several processes serve the same payments.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from payments.models import Payment

# Kakao Pay: a tid may be approved during 15 minutes after ready.
TID_VALIDITY = timedelta(minutes=15)

# /order `status` values, grouped by what they mean for our money.
PAID = frozenset({"SUCCESS_PAYMENT"})
PART_CANCELED = frozenset({"PART_CANCEL_PAYMENT"})
CANCELED = frozenset({"CANCEL_PAYMENT"})
NOT_PAID_YET = frozenset(
    {"READY", "SEND_TMS", "OPEN_PAYMENT", "SELECT_METHOD", "ARS_WAITING", "AUTH_PASSWORD"}
)
FAILED = frozenset({"FAIL_AUTH_PASSWORD", "QUIT_PAYMENT", "FAIL_PAYMENT"})

# Error codes of Kakao Pay that matter to us (KAKAO.md).
BAD_KEY = -401
NOT_FINISHED = -701
ALREADY_APPROVED = -702
PARTNER_ORDER_MISMATCH = -706
PARTNER_USER_MISMATCH = -707
BAD_PG_TOKEN = -708
CANCEL_TOO_MUCH = -710
UNKNOWN_TID = -721
EXPIRED = -723
APPROVE_FAILED = -780
CANCEL_FAILED = -781
CANCEL_WRONG_STATE = -784
DUPLICATE_REQUEST = -785
USER_LOCKED = "USER_LOCKED"


@dataclass(frozen=True)
class ReadyResult:
    tid: str
    next_redirect_app_url: str
    next_redirect_mobile_url: str
    next_redirect_pc_url: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderAnswer:
    """A successful answer: the raw body, plus the fields we act on."""

    raw: dict[str, Any]
    status: str = ""
    amount: int | None = None
    canceled_amount: int = 0
    cancel_available_amount: int | None = None


class ProviderError(Exception):
    """The provider answered with an error, or did not answer.

    `raw` is what we store in the payment's event log: the provider's error body (or what
    went wrong on the wire), never our credentials.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        method_result_code: str | None = None,
        http_status: int | None = None,
        raw: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.method_result_code = method_result_code
        self.http_status = http_status
        self.raw = raw if raw is not None else {"error": message}

    @property
    def outcome_unknown(self) -> bool:
        """After these, only /order can say what happened (KAKAO.md, rules of thumb)."""
        return self.code in (ALREADY_APPROVED, DUPLICATE_REQUEST) or (
            self.method_result_code == USER_LOCKED
        )


class ProviderRefused(ProviderError):
    """A 4xx with an error code: the buyer's state or the request is the problem."""


class ProviderUnavailable(ProviderError):
    """A 5xx, a time-out or a network failure: the outcome of the call is unknown."""


class ProviderMisconfigured(ProviderError):
    """Our own credentials or merchant id were refused (-401): an operator must act."""


def callback_url(kind: str) -> str:
    """Where the provider sends the buyer's browser after paying (approval), quitting
    (cancel) or failing (fail). Public pages of this server."""
    return f"{settings.PUBLIC_BASE_URL}/remit/kakaopay/{kind}"


def item_name(payment: Payment) -> str:
    """What the buyer sees at checkout: the funding's title when the payment is bound."""
    funding = payment.funding
    title = funding.title if funding is not None else "FunSun gift"
    return f"FunSun: {title}"[:100]


class PaymentProvider(ABC):
    name: str

    def new_order_fields(self) -> dict[str, Any]:
        """Columns a new payment of this provider starts with (written with the INSERT)."""
        return {}

    @abstractmethod
    def ready(self, payment: Payment) -> ReadyResult:
        """Open an order; the buyer pays at one of the returned URLs."""

    @abstractmethod
    def approve(self, payment: Payment) -> ProviderAnswer:
        """Capture the money the buyer authorised (payment.pg_token)."""

    @abstractmethod
    def cancel(self, payment: Payment, amount: int) -> ProviderAnswer:
        """Give `amount` back. `payment.amount - payment.refunded_amount` is what we believe
        is still cancellable; a provider refuses when it disagrees (a repeated cancel)."""

    @abstractmethod
    def order(self, payment: Payment) -> ProviderAnswer:
        """The provider's own view of the order: `status` is one of Kakao's values."""

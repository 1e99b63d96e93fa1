"""The one interface every payment provider speaks, in the core's own terms.

A provider answers in provider-neutral terms only: what a lookup of the order says
(`OrderStatus`), and errors that say what the core must do next (`ProviderError` and its
kinds). Each provider keeps its own codes and statuses to itself and translates them here.

A provider is stateless: whatever it must remember lives in the database (the sandbox) or
at the provider (Kakao Pay), because several processes serve the same payments.
"""

from __future__ import annotations

import enum
import functools
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings

if TYPE_CHECKING:
    from payments.models import Payment

logger = logging.getLogger(__name__)


class OrderStatus(enum.StrEnum):
    """What the provider says of an order when asked (`lookup`)."""

    NOT_PAID_YET = "not_paid_yet"  # open: the buyer may still pay, or is paying
    PAID = "paid"  # the provider holds the whole amount
    PARTIALLY_REFUNDED = "partially_refunded"  # holds `refundable`, gave back the rest
    REFUNDED = "refunded"  # everything was given back
    FAILED = "failed"  # final: the buyer quit, or the payment was declined
    EXPIRED = "expired"  # final: the order's validity passed before payment


@dataclass(frozen=True)
class ReadyResult:
    """An order opened at the provider: the provider's handle on it (`tid`) and where the
    app sends the buyer to pay."""

    tid: str
    next_redirect_app_url: str
    next_redirect_mobile_url: str
    next_redirect_pc_url: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """A successful approve or refund: the provider's raw answer, for the event log."""

    raw: dict[str, Any]


@dataclass(frozen=True)
class Lookup:
    """A successful lookup of an order."""

    status: OrderStatus
    # What can still be refunded (0 unless PAID or PARTIALLY_REFUNDED).
    refundable: int
    raw: dict[str, Any]
    # The provider's own word for the status, for the event log only.
    provider_status: str = ""


class ProviderError(Exception):
    """The provider answered with an error, or did not answer.

    `raw` is what we store in the payment's event log: the provider's error body (or what
    went wrong on the wire), never our credentials.
    """

    def __init__(self, message: str, *, raw: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.raw = raw if raw is not None else {"error": message}


class ProviderRefused(ProviderError):
    """The provider said no to this request, for now: the buyer has not finished paying, a
    wrong approval token, a bad field. Nothing final happened to the order."""


class PaymentDeclined(ProviderRefused):
    """Final: the payment failed (declined, or the buyer quit); it can never be approved."""


class PaymentExpired(ProviderRefused):
    """Final: the order's validity passed before it was approved."""


class RefundRefused(ProviderRefused):
    """The provider refused a refund: the amount or the order's state does not match what
    we believe (often: the refund already happened). Only a lookup says what is true."""


class OutcomeUnknown(ProviderError):
    """The provider answered, but the answer leaves open what happened: already approved,
    a duplicate request, the buyer's account busy with another payment. Ask later
    (`lookup`)."""


class ProviderUnavailable(OutcomeUnknown):
    """No usable answer (time-out, 5xx, network): the call may or may not have happened."""


class ProviderMisconfigured(ProviderError):
    """Our own credentials or merchant id were refused: an operator must act."""


@functools.cache
def http_client() -> httpx.Client:
    """One HTTP client per process for the providers' calls: its connection pool and TLS
    context are reused (a new client per call costs more CPU than the call's own work).
    Thread-safe; each call passes its own time-out."""
    return httpx.Client()


def send(
    provider: str, call: str, method: str, url: str, *, timeout: float, **request
) -> tuple[httpx.Response, dict[str, Any] | None]:
    """One call to a provider's server, and its answer's JSON object (None when the body is
    not one: cut off, not JSON, a proxy's page). No answer at all, a time-out or a network
    failure, is ProviderUnavailable: the call may or may not have happened, so the caller
    asks again later. `provider` names it in the logs and the errors."""
    try:
        response = http_client().request(method, url, timeout=httpx.Timeout(timeout), **request)
    except httpx.TimeoutException as exc:
        logger.warning("%s %s timed out", provider, call)
        raise ProviderUnavailable(
            f"{provider} did not answer {call} in time.", raw={"error": "timeout", "call": call}
        ) from exc
    except httpx.HTTPError as exc:
        logger.warning("%s %s failed: %s", provider, call, exc.__class__.__name__)
        raise ProviderUnavailable(
            f"{provider} could not be reached for {call}.",
            raw={"error": exc.__class__.__name__, "call": call},
        ) from exc
    try:
        data = response.json()
    except ValueError:
        data = None
    return response, data if isinstance(data, dict) else None


def callback_url(kind: str) -> str:
    """Where the provider sends the buyer's browser after paying (approval), quitting
    (cancel) or failing (fail). Public pages of this server."""
    return f"{settings.PUBLIC_BASE_URL}/remit/kakaopay/{kind}"


class PaymentProvider(ABC):
    name: str
    # True for a provider that approves at the buyer's return: the buyer's browser comes
    # back to this server with the provider's key of an authorisation (stored in
    # `payment.provider_key`), which `approve` confirms at once; the approval token the app
    # hands over afterwards is then ours (services.approve_at_return).
    approves_at_return: bool = False

    @abstractmethod
    def order_validity(self) -> timedelta:
        """How long an order stays payable after `ready`: an unpaid order older than this
        is expired (once a lookup confirms that it was not paid)."""

    def new_order_fields(self) -> dict[str, Any]:
        """Columns a new payment of this provider starts with (written with the INSERT)."""
        return {}

    @abstractmethod
    def ready(self, payment: Payment) -> ReadyResult:
        """Open an order for `payment.amount`, shown to the buyer as `payment.item_name`;
        the buyer pays at one of the returned URLs."""

    @abstractmethod
    def approve(self, payment: Payment) -> Answer:
        """Capture the money the buyer authorised (`payment.pg_token`, or
        `payment.provider_key` for a provider that approves at the buyer's return).

        Raises PaymentDeclined or PaymentExpired (final), ProviderRefused (not now),
        OutcomeUnknown / ProviderUnavailable (ask `lookup`), ProviderMisconfigured.
        """

    @abstractmethod
    def refund(self, payment: Payment, amount: int) -> Answer:
        """Give `amount` back. `payment.amount - payment.refunded_amount` is what we believe
        is still refundable; the provider raises RefundRefused when it disagrees (a
        repeated refund), ProviderUnavailable when the outcome is unknown."""

    @abstractmethod
    def lookup(self, payment: Payment) -> Lookup:
        """The provider's own view of the order."""

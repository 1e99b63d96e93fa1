"""Payment providers behind one interface (base.py), chosen by settings.PAYMENT_PROVIDER."""

from django.conf import settings

from payments.providers.base import (
    Answer,
    Lookup,
    OrderStatus,
    OutcomeUnknown,
    PaymentDeclined,
    PaymentExpired,
    PaymentProvider,
    ProviderError,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderUnavailable,
    ReadyResult,
    RefundRefused,
)
from payments.providers.kakaopay import KakaoPayProvider
from payments.providers.sandbox import SandboxProvider
from payments.providers.toss import TossProvider

PROVIDERS: dict[str, type[PaymentProvider]] = {
    SandboxProvider.name: SandboxProvider,
    KakaoPayProvider.name: KakaoPayProvider,
    TossProvider.name: TossProvider,
}

__all__ = [
    "PROVIDERS",
    "Answer",
    "Lookup",
    "OrderStatus",
    "OutcomeUnknown",
    "PaymentDeclined",
    "PaymentExpired",
    "PaymentProvider",
    "ProviderError",
    "ProviderMisconfigured",
    "ProviderRefused",
    "ProviderUnavailable",
    "ReadyResult",
    "RefundRefused",
    "get_provider",
]


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (a payment's own `provider`), else the configured one.

    A payment is always finished by the provider that started it, even if the setting
    changed since.
    """
    return PROVIDERS[name or settings.PAYMENT_PROVIDER]()

"""System checks of the payment provider's configuration.

`manage.py check` (and every command that runs the checks: runserver, migrate) reports them;
a process started with DEBUG off refuses to start on any of them (PaymentsConfig.ready).
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from payments.providers.toss import CLIENT_KEY, SECRET_KEY

TAG = "payments"


def _mode(key: str) -> str:
    return key.split("_", 1)[0]


@checks.register(TAG)
def check_toss_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Toss needs both of its keys, of the right kinds, of the same mode (test or live)."""
    secret, client = settings.TOSS_SECRET_KEY, settings.TOSS_CLIENT_KEY
    errors: list[checks.CheckMessage] = []
    if settings.PAYMENT_PROVIDER == "toss":
        if not secret:
            errors.append(
                checks.Error(
                    "PAYMENT_PROVIDER is 'toss' but TOSS_SECRET_KEY is not set.",
                    hint="Copy the secret key (test_sk_... or live_sk_...) from Toss's "
                    "developer centre, API keys of the payment window.",
                    id="payments.E001",
                )
            )
        if not client:
            errors.append(
                checks.Error(
                    "PAYMENT_PROVIDER is 'toss' but TOSS_CLIENT_KEY is not set.",
                    hint="Copy the client key (test_ck_... or live_ck_...) from Toss's "
                    "developer centre, next to the secret key.",
                    id="payments.E002",
                )
            )
    if secret and not SECRET_KEY.fullmatch(secret):
        errors.append(
            checks.Error(
                "TOSS_SECRET_KEY is not a secret key of Toss's payment window.",
                hint="It starts with test_sk_ or live_sk_ (a client key, ck, belongs in "
                "TOSS_CLIENT_KEY; the payment widget's gsk keys do not work with the window).",
                id="payments.E003",
            )
        )
    if client and not CLIENT_KEY.fullmatch(client):
        errors.append(
            checks.Error(
                "TOSS_CLIENT_KEY is not a client key of Toss's payment window.",
                hint="It starts with test_ck_ or live_ck_ (the widget's gck keys do not work).",
                id="payments.E004",
            )
        )
    if (
        SECRET_KEY.fullmatch(secret or "")
        and CLIENT_KEY.fullmatch(client or "")
        and _mode(secret) != _mode(client)
    ):
        errors.append(
            checks.Error(
                f"TOSS_SECRET_KEY is a {_mode(secret)} key but TOSS_CLIENT_KEY a "
                f"{_mode(client)} key.",
                hint="Both keys must be test keys, or both live keys of the same store.",
                id="payments.E005",
            )
        )
    if (
        settings.PAYMENT_PROVIDER == "toss"
        and _mode(secret or "") == "live"
        and not settings.PUBLIC_BASE_URL.startswith("https://")
    ):
        errors.append(
            checks.Warning(
                "Live Toss keys with a PUBLIC_BASE_URL that is not https.",
                hint="Toss sends the buyer back to PUBLIC_BASE_URL: serve it over https.",
                id="payments.W001",
            )
        )
    return errors


def refuse_bad_configuration() -> None:
    """Raise ImproperlyConfigured when a check above finds an error (start-up, DEBUG off)."""
    errors = [message for message in check_toss_keys() if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(" ".join(f"{e.id}: {e.msg}" for e in errors))

"""What fundings does when other apps tell it something happened (connected in apps.py)."""

import logging

from django.dispatch import receiver

from accounts.signals import account_deactivating
from fundings.services.contributions import (
    cancel_fundings_of,
    cancel_fundings_of_inactive_authors,
)
from payments.signals import reconciliation_requested

logger = logging.getLogger(__name__)


@receiver(account_deactivating, dispatch_uid="fundings.cancel_fundings_of_deactivated")
def cancel_fundings_of_deactivated(sender, account, **kwargs) -> None:
    """A deactivated account's fundings are canceled and their contributions taken back
    (docs/MONEY.md, money invariant 6), inside the deactivation's own transaction; the refunds
    go out as jobs once it commits."""
    canceled = cancel_fundings_of(account=account)
    if canceled:
        logger.info("account %s deactivating: %d fundings canceled", account.pk, canceled)


@receiver(reconciliation_requested, dispatch_uid="fundings.cancel_stranded_fundings")
def cancel_stranded_fundings(sender, **kwargs) -> int:
    """`manage.py reconcile_payments` repairs fundings of deactivated authors too."""
    return cancel_fundings_of_inactive_authors()

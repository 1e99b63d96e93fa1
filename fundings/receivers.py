"""What fundings does when other apps tell it something happened (connected in apps.py)."""

import logging

from django.dispatch import receiver

from accounts.signals import account_deactivated
from fundings.services.contributions import cancel_fundings_of

logger = logging.getLogger(__name__)


@receiver(account_deactivated, dispatch_uid="fundings.cancel_fundings_of_deactivated")
def cancel_fundings_of_deactivated(sender, account, **kwargs) -> None:
    """A deactivated account's fundings are canceled and their contributions refunded
    (PRODUCT.md, money invariant 6). Sent after the deactivation committed; a refund the
    provider does not confirm is left to reconciliation."""
    canceled = cancel_fundings_of(account=account)
    if canceled:
        logger.info("account %s deactivated: %d fundings canceled", account.pk, canceled)

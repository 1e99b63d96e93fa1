"""`python manage.py reconcile_payments`: what the periodic jobs do every minute
(payments.reconciliation, and the repairs of the apps above, through
`reconciliation_requested`), run once by hand or from cron; safe on any number of machines
at once. See payments/reconciliation.py."""

from django.core.management.base import BaseCommand

from payments.reconciliation import reconcile
from payments.signals import reconciliation_requested


class Command(BaseCommand):
    help = (
        "Refund approved payments nobody credited, finish interrupted refunds, settle "
        "ready payments whose approval is unknown or whose tid expired, and let the apps "
        "above repair what they own (fundings of deactivated authors)."
    )

    def handle(self, *args, **options):
        report = reconcile()
        self.stdout.write(f"reconcile_payments: {report}")
        for receiver, repaired in reconciliation_requested.send(sender=None):
            if repaired is not None:
                name = getattr(receiver, "__qualname__", repr(receiver))
                self.stdout.write(f"reconcile_payments: {name}: repaired {repaired}")

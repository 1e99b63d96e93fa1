"""`python manage.py reconcile_payments`: run every minute (cron, a systemd timer), on as
many machines as you like; see payments/reconciliation.py."""

from django.core.management.base import BaseCommand

from payments.reconciliation import reconcile


class Command(BaseCommand):
    help = (
        "Refund approved payments nobody credited, finish interrupted refunds, and settle "
        "ready payments whose approval is unknown or whose tid expired."
    )

    def handle(self, *args, **options):
        report = reconcile()
        self.stdout.write(f"reconcile_payments: {report}")

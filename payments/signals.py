"""Signals that payments sends to the apps above it (they may not be imported from here).

`reconciliation_requested`
    Sent by `manage.py reconcile_payments` after payments' own reconciliation, with
    `sender=None`: apps above repair what they own (fundings: fundings of deactivated
    authors still holding money are canceled and refunded). A receiver returns how many
    things it repaired, or None; the command prints each receiver's count. The periodic
    jobs do the same work on their own (payments/tasks.py, fundings/tasks.py).
"""

from django.dispatch import Signal

reconciliation_requested = Signal()

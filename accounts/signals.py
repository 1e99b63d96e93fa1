"""Signals that accounts sends to the apps above it.

accounts is the lowest app (reports -> fundings -> payments -> accounts): it may not import
fundings or payments, yet deleting an account must cancel and refund what that account
has open there (PRODUCT.md, money invariant 6). The higher apps listen instead.

`account_deactivated`
    Sent once, after the transaction that deactivated an account has committed
    (`transaction.on_commit`), with `sender=Account` and `account=<the Account>`.
    At that moment the account is inactive, its personal data is erased, its follows are
    gone and its refresh tokens are revoked; its financial rows are untouched. Receivers
    cancel and refund what is still open (fundings, contributions, payments) in their own
    transactions. They are called with `send_robust`: one receiver failing is logged and
    does not stop the others nor turn the user's 200 into an error, so a receiver must
    leave a state its own reconciliation can finish.

    Connect in the receiving app's `AppConfig.ready()`:

        from accounts.signals import account_deactivated

        @receiver(account_deactivated)
        def cancel_open_fundings(sender, account, **kwargs): ...
"""

from django.dispatch import Signal

account_deactivated = Signal()

"""Signals that accounts sends to the apps above it.

accounts is the lowest app (reports -> fundings -> payments -> accounts): it may not import
fundings or payments, yet deleting an account must cancel and refund what that account
has open there (docs/MONEY.md, money invariant 6). The higher apps listen instead.

`account_deactivating`
    Sent once per deactivation, *inside* the transaction that deactivates the account,
    before the account row is changed, with `sender=Account` and `account=<the Account>`.
    Receivers make their changes in that same transaction (fundings: cancel the author's
    fundings, take back their contributions, move the payments to `refunding`), so that the
    deactivation and everything it cancels commit together or not at all: a process killed
    half-way leaves nothing changed. Work that talks to the outside world (the provider's
    refunds) goes out after the commit (`transaction.on_commit`, background jobs). Sent with
    `send`, not `send_robust`: a receiver that raises rolls the whole deactivation back.
    A receiver must not wait on anything but database locks, taken in the project's order
    (fundings before accounts).

    Connect in the receiving app's `AppConfig.ready()`:

        from accounts.signals import account_deactivating

        @receiver(account_deactivating)
        def cancel_open_fundings(sender, account, **kwargs): ...

`followed`
    Sent inside the transaction that creates the follow, with `sender=Follow`,
    `follower_id` and `followee_id`: what a receiver writes commits with the follow or not
    at all. Receivers (notifications) must be idempotent, must not talk to the outside world
    before the commit, and must keep their own failures to themselves (a savepoint): a
    follow does not fail because of them.
"""

from django.dispatch import Signal

account_deactivating = Signal()
followed = Signal()

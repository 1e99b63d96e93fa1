"""Fundings' background jobs (huey; README "Background jobs").

`cancel_stranded_fundings`: every minute, any funding of a deactivated author that still
holds or takes money is canceled and its contributions refunded (the repair of a
deactivation that did not finish its cancellations). One run at a time across every
consumer (a huey lock); the work itself is idempotent.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from fundings.services.contributions import cancel_fundings_of_inactive_authors


@db_periodic_task(crontab(minute="*"), name="cancel_stranded_fundings")
@lock_task("cancel_stranded_fundings")
def cancel_stranded_fundings() -> None:
    cancel_fundings_of_inactive_authors()  # logs what it canceled


@db_periodic_task(crontab(minute="*"), name="credit_left_behind_web_gifts")
@lock_task("credit_left_behind_web_gifts")
def credit_left_behind_web_gifts() -> None:
    """Web gifts paid but never credited (the buyer closed the tab): credited before
    reconciliation's grace period would refund them (fundings/web_gifts.py)."""
    from fundings.web_gifts import credit_left_behind

    credit_left_behind()

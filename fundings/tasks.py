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

"""Notifications' background jobs (huey).

`send_push`: the push of one notification to each phone of its recipient (notifications.push);
FCM's 429 and 5xx try the pending ones again after `Retry-After` or a doubling back-off, each
delivery up to push.MAX_ATTEMPTS.

`notify_refunds` (every 5 minutes): refunds the provider confirmed in a job, told to their
contributors. `notify_expiring` (hourly) and `notify_birthdays` (daily, 07:00 Korea time):
reminders. Each creates a notification once per event whatever the number of runs (the
unique constraint decides).
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task
from huey.exceptions import RetryTask

from notifications import push, reminders


@db_task(name="send_push")
def send_push(notification_id: int) -> None:
    wait = push.push(notification_id)
    if wait is not None:
        raise RetryTask(f"notification {notification_id}: FCM asked to try later", delay=wait)


@db_periodic_task(crontab(minute="5"), name="notify_expiring")
@lock_task("notify_expiring")
def notify_expiring() -> None:
    reminders.notify_expiring()


@db_periodic_task(crontab(minute="*/5"), name="notify_refunds")
@lock_task("notify_refunds")
def notify_refunds() -> None:
    reminders.notify_refunds()


# 22:00 UTC is 07:00 in Korea: the reminders are ready before the quiet hours end.
@db_periodic_task(crontab(hour="22", minute="0"), name="notify_birthdays")
@lock_task("notify_birthdays")
def notify_birthdays() -> None:
    reminders.notify_birthdays()

"""The benchmark's notification measurements that run inside Django (bench/__main__.py runs
them in the environment of one benchmark database, FCM pointing at the local fake).

    python -m bench.notify mark       the newest notification and delivery ids (a window's start)
    python -m bench.notify produce    for --duration seconds, one process sends
                                      `contribution_credited` for seeded contributions, as the
                                      remit service does on commit: the receiver makes the
                                      author's notification, its push delivery, and enqueues
                                      the push job (in-app notifications made per second)
    python -m bench.notify drain      wait (--timeout) until every notification after
                                      --notifications was pushed (pushes per second)
    python -m bench.notify window     what a journey's load made: notifications after
                                      --notifications, their pushes and the push delays
    python -m bench.notify flush      empty the jobs queue (what a timed-out drain left)
"""

from __future__ import annotations

import argparse
import os
import time

import django

from bench.common import emit


def mark() -> dict:
    from notifications.models import Delivery, Notification

    return {
        "notification": Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
        or 0,
        "delivery": Delivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }


def produce(duration: float) -> dict:
    from django.db import transaction
    from django.db.models import F

    from fundings.models import Contribution
    from fundings.signals import contribution_credited
    from notifications.kinds import Kind
    from notifications.models import Notification

    before = mark()
    told = set(
        Notification.objects.filter(kind=Kind.CONTRIBUTION).values_list("event_key", flat=True)
    )
    pending = Contribution.objects.exclude(contributor_id=F("funding__author_id")).order_by("pk")
    ids = [pk for pk in pending.values_list("pk", flat=True) if f"contribution:{pk}" not in told]
    sent = 0
    cpu = time.process_time()
    started = time.perf_counter()
    rows = Contribution.objects.select_related("funding").only(
        "pk", "contributor_id", "amount", "message", "funding_id", "funding__author_id"
    )
    for pk in ids:
        # As the remit service sends it: inside the credit's transaction, with the row (this
        # loop reads it first; the CPU figure includes that read).
        contribution = rows.get(pk=pk)
        with transaction.atomic():
            contribution_credited.send(Contribution, contribution=contribution)
        sent += 1
        if time.perf_counter() - started >= duration:
            break
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    made = Notification.objects.filter(pk__gt=before["notification"]).count()
    from huey.contrib.djhuey import HUEY

    queued = HUEY.pending_count()  # the consumer is stopped: every push job made waits
    return {
        "events": sent,
        "notifications": made,
        "push_jobs": queued,
        "seconds": seconds,
        "per_second": made / seconds if seconds else 0.0,
        "cpu_ms_per_notification": 1000 * cpu / made if made else None,
        "after": before,
    }


def drain(after: int, timeout: float) -> dict:
    """Wait until every notification after `after` was pushed to each phone of its recipient
    (a settled delivery per phone: the push job made and sent it), for `timeout` at most."""
    from django.db.models import Count, Max, Min

    from notifications.models import Delivery, Notification

    # Every bench account has one phone and push on: one push per notification.
    expected = Notification.objects.filter(pk__gt=after).aggregate(n=Count("recipient__devices"))[
        "n"
    ]
    rows = Delivery.objects.filter(notification_id__gt=after)
    settled = rows.exclude(state=Delivery.State.PENDING)
    started = time.perf_counter()
    done = settled.count()
    while done < expected and time.perf_counter() - started < timeout:
        time.sleep(0.25)
        done = settled.count()
    states = dict(rows.values_list("state").annotate(n=Count("pk")).order_by())
    span = rows.filter(state=Delivery.State.SENT).aggregate(
        first=Min("sent_on"), last=Max("sent_on")
    )
    sent = states.get(Delivery.State.SENT, 0)
    seconds = (span["last"] - span["first"]).total_seconds() if sent > 1 else 0.0
    return {
        "states": states,
        # Not pushed yet: a pending delivery, or a job that has not made its deliveries.
        "pending": expected - done,
        "waited": time.perf_counter() - started,
        "sent": sent,
        # From the first push sent to the last: the consumer's start-up is not counted.
        "seconds": seconds,
        "per_second": (sent - 1) / seconds if seconds else None,
    }


def window(notifications_after: int) -> dict:
    from django.db.models import Count, Max, Min

    from bench.journey import percentile
    from notifications.models import Delivery, Notification

    made = Notification.objects.filter(pk__gt=notifications_after)
    span = made.aggregate(first=Min("created_on"), last=Max("created_on"), n=Count("pk"))
    rows = Delivery.objects.filter(notification__in=made)
    states = dict(rows.values_list("state").annotate(n=Count("pk")).order_by())
    delays = [
        (sent_on - created_on).total_seconds()
        for sent_on, created_on in rows.filter(state=Delivery.State.SENT).values_list(
            "sent_on", "notification__created_on"
        )
    ]
    seconds = (span["last"] - span["first"]).total_seconds() if span["n"] > 1 else 0.0
    return {
        "notifications": span["n"],
        "per_second": (span["n"] - 1) / seconds if seconds else None,
        "pushes": states,
        "push_p50_ms": 1000 * percentile(delays, 50) if delays else None,
        "push_p99_ms": 1000 * percentile(delays, 99) if delays else None,
    }


def flush() -> dict:
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    return {"flushed": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["mark", "produce", "drain", "window", "flush"])
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--notifications", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funsun.settings")
    django.setup()
    if args.action == "mark":
        emit(mark())
    elif args.action == "produce":
        emit(produce(args.duration))
    elif args.action == "drain":
        emit(drain(args.notifications, args.timeout))
    elif args.action == "window":
        emit(window(args.notifications))
    else:
        emit(flush())


if __name__ == "__main__":
    main()

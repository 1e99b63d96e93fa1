"""Push to phones through Firebase Cloud Messaging's HTTP v1 API.

`POST {FCM_API_BASE_URL}/v1/projects/{FCM_PROJECT_ID}/messages:send` with an OAuth 2 bearer
that google-auth obtains (and refreshes before it expires) from the service account in
`FCM_CREDENTIALS_FILE`, at the `token_uri` that file names. Without a credentials file push
is off: notifications stay in the app.

One job per notification, enqueued when the notification's transaction commits; the job
makes one Delivery row per (notification, device) and pushes each. Reminders are not pushed
between 21:00 and 08:00 Korea time: their job is scheduled for 08:00. FCM's answers decide
what follows: a token it no longer knows (UNREGISTERED) or refuses (INVALID_ARGUMENT)
removes the device; 429 and 5xx are tried again later (after `Retry-After` when FCM gives
one); anything else fails the delivery for good.
"""

from __future__ import annotations

import enum
import functools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import urllib3
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from google.auth import exceptions as google_errors
from google.auth.transport.urllib3 import Request as GoogleRequest
from google.oauth2 import service_account

from notifications.kinds import REMINDERS, text
from notifications.models import Delivery, Device, Notification

logger = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
KOREA = ZoneInfo("Asia/Seoul")
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)
# Tries of one delivery before it is given up (the job's back-off doubles from 30 s).
MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
# FCM's error codes that say the registration token is of no use any more.
TOKEN_GONE = frozenset({"UNREGISTERED", "INVALID_ARGUMENT"})


def is_configured() -> bool:
    return bool(settings.FCM_CREDENTIALS_FILE)


# --- when ---------------------------------------------------------------------------------


def push_eta(kind: str, now: datetime) -> datetime | None:
    """When to push a notification of `kind` created at `now`: None for at once, else the
    next 08:00 Korea time for a reminder created in the quiet hours."""
    if kind not in REMINDERS:
        return None
    local = now.astimezone(KOREA)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=KOREA)


def push_later(notification: Notification, *, now: datetime) -> None:
    """Inside the transaction that created `notification`: its push job, enqueued when the
    transaction commits (at 08:00 Korea time for a reminder made in the quiet hours). The
    request pays for nothing more: which phones, and the pushes, are the job's work."""
    if is_configured():
        eta = push_eta(notification.kind, now)
        transaction.on_commit(lambda pk=notification.pk: enqueue(pk, eta))


def plan_deliveries(notification_id: int) -> list[int]:
    """A Delivery per device of the notification's recipient (push on) that has none yet;
    the ids of its deliveries still pending. Safe to run again: the unique constraint keeps
    one delivery per device."""
    rows = Notification.objects.filter(pk=notification_id).values_list(
        "recipient__devices__pk", "recipient__push_setting__enabled"
    )
    devices = [device_id for device_id, push_on in rows if device_id and push_on is not False]
    Delivery.objects.bulk_create(
        [Delivery(notification_id=notification_id, device_id=pk) for pk in devices],
        ignore_conflicts=True,
    )
    pending = Delivery.objects.filter(notification_id=notification_id, state=Delivery.State.PENDING)
    return list(pending.order_by("pk").values_list("pk", flat=True))


def push(notification_id: int) -> float | None:
    """Push a notification to every phone of its recipient. None when every delivery is
    settled, else how many seconds to wait before the pending ones are tried again."""
    waits = [deliver(pk) for pk in plan_deliveries(notification_id)]
    waits = [wait for wait in waits if wait is not None]
    return min(waits) if waits else None


def enqueue(notification_id: int, eta: datetime | None) -> None:
    from notifications.tasks import send_push  # tasks import this module

    if eta is None:
        send_push(notification_id)
    else:
        send_push.schedule(args=(notification_id,), eta=eta)


# --- FCM ----------------------------------------------------------------------------------


class _Credentials:
    """The service account's credentials, one per credentials file, shared by the threads
    of a process: google-auth keeps the access token and refreshes it when it expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_file: dict[str, service_account.Credentials] = {}

    def token(self) -> str:
        path = str(settings.FCM_CREDENTIALS_FILE)
        with self._lock:
            credentials = self._by_file.get(path)
            if credentials is None:
                credentials = service_account.Credentials.from_service_account_file(
                    path, scopes=[SCOPE]
                )
                self._by_file[path] = credentials
            if not credentials.valid:
                http = urllib3.PoolManager(timeout=settings.FCM_TIMEOUT_SECONDS, retries=False)
                credentials.refresh(GoogleRequest(http))
            return credentials.token

    def forget(self) -> None:
        """FCM refused the bearer: the next call asks for a new one."""
        with self._lock:
            self._by_file.pop(str(settings.FCM_CREDENTIALS_FILE), None)


credentials = _Credentials()


@functools.cache
def _http() -> httpx.Client:
    """One HTTP client per process: its connection pool and TLS context are reused (a new
    client per message costs more CPU than everything else a push does). Thread-safe."""
    return httpx.Client()


class Outcome(enum.Enum):
    SENT = "sent"
    TOKEN_GONE = "token gone"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    detail: str = ""
    retry_after: float | None = None


def send(*, token: str, title: str, body: str, data: dict[str, str]) -> Answer:
    """One message to one registration token."""
    url = (
        f"{settings.FCM_API_BASE_URL.rstrip('/')}/v1/projects/"
        f"{settings.FCM_PROJECT_ID}/messages:send"
    )
    message = {
        "message": {
            "token": token,
            "notification": {"title": title, "body": body},
            "data": data,
        }
    }
    try:
        bearer = credentials.token()
    except (google_errors.GoogleAuthError, OSError, ValueError) as exc:
        logger.warning("fcm: no access token (%s)", type(exc).__name__)
        return Answer(Outcome.RETRY, f"access token: {type(exc).__name__}")
    try:
        response = _http().post(
            url,
            json=message,
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=settings.FCM_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        return Answer(Outcome.RETRY, f"unreachable: {type(exc).__name__}")
    if response.status_code == 200:
        return Answer(Outcome.SENT)
    code = _error_code(response)
    detail = f"HTTP {response.status_code} {code or ''}".strip()
    if code in TOKEN_GONE:
        return Answer(Outcome.TOKEN_GONE, detail)
    if response.status_code == 401:
        credentials.forget()
        return Answer(Outcome.RETRY, detail)
    if response.status_code == 429 or response.status_code >= 500:
        return Answer(Outcome.RETRY, detail, _retry_after(response))
    return Answer(Outcome.FAILED, detail)


def _error_code(response: httpx.Response) -> str | None:
    """FCM's own code (details[].errorCode), else the API's status."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    status = error.get("status")
    return str(status) if status else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date, or nothing: the job's own back-off applies


# --- one delivery -------------------------------------------------------------------------


# What a push needs, in one row: the delivery, its device's token, the notification's text
# parts, and the recipient's push setting (no PushSetting row: on).
_PUSH_ROW = (
    "attempts",
    "device_id",
    "device__token",
    "notification_id",
    "notification__kind",
    "notification__data",
    "notification__actor__username",
    "notification__funding__title",
    "notification__recipient__push_setting__enabled",
)


def deliver(delivery_id: int) -> float | None:
    """Push one delivery. None when it is settled (sent, dropped or given up), else how
    many seconds to wait before trying again."""
    pending = Delivery.objects.filter(pk=delivery_id, state=Delivery.State.PENDING)
    row = next(iter(pending.values_list(*_PUSH_ROW)), None)  # no ORDER BY to build
    if row is None:
        return None
    attempts, device_id, token, notification_id, kind, data, actor, title, push_on = row
    if device_id is None or push_on is False:
        _settle(pending, Delivery.State.DROPPED, "no device, or push turned off", attempts)
        return None
    answer = send(
        token=token,
        title="FunSun",
        body=text(kind, actor, title, data),
        data={"notification": str(notification_id), "kind": kind},
    )
    attempts += 1
    if answer.outcome == Outcome.SENT:
        _settle(pending, Delivery.State.SENT, "", attempts, sent_on=timezone.now())
        return None
    if answer.outcome == Outcome.TOKEN_GONE:
        _settle(pending, Delivery.State.DROPPED, answer.detail, attempts)
        Device.objects.filter(pk=device_id).delete()
        logger.info("fcm: device %s removed (%s)", device_id, answer.detail)
        return None
    if answer.outcome == Outcome.FAILED or attempts >= MAX_ATTEMPTS:
        _settle(pending, Delivery.State.FAILED, answer.detail, attempts)
        logger.warning("fcm: delivery %s failed: %s", delivery_id, answer.detail)
        return None
    pending.update(attempts=attempts, last_error=answer.detail[:500])
    if answer.retry_after is not None:
        return answer.retry_after
    return min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS)


def _settle(pending, state: str, error: str, attempts: int, sent_on: datetime | None = None):
    """Settle the delivery if it is still pending (a second run of its job changes nothing)."""
    pending.update(state=state, attempts=attempts, last_error=error[:500], sent_on=sent_on)

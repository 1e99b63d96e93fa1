"""Push to phones through Firebase Cloud Messaging's HTTP v1 API.

`POST {FCM_API_BASE_URL}/v1/projects/{FCM_PROJECT_ID}/messages:send` with an OAuth 2 bearer
that google-auth obtains (and refreshes before it expires) from the service account in
`FCM_CREDENTIALS_FILE`, at the `token_uri` that file names. Without a credentials file push
is off: notifications stay in the app.

One Delivery row per (notification, device), one job per delivery, enqueued when the
notification's transaction commits. Reminders are not pushed between 21:00 and 08:00 Korea
time: their job is scheduled for 08:00. FCM's answers decide what follows: a token it no
longer knows (UNREGISTERED) or refuses (INVALID_ARGUMENT) removes the device; 429 and 5xx
are tried again later (after `Retry-After` when FCM gives one); anything else fails the
delivery for good.
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
from notifications.models import Delivery, Device, Notification, PushSetting

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


def plan_deliveries(notification: Notification, *, now: datetime) -> int:
    """Inside the transaction that created `notification`: a Delivery per device of its
    recipient (push on, FCM configured), each job enqueued when the transaction commits."""
    if not is_configured():
        return 0
    if PushSetting.objects.filter(account_id=notification.recipient_id, enabled=False).exists():
        return 0
    eta = push_eta(notification.kind, now)
    planned = 0
    for device_id in Device.objects.filter(account_id=notification.recipient_id).values_list(
        "pk", flat=True
    ):
        delivery, created = Delivery.objects.get_or_create(
            notification=notification, device_id=device_id, defaults={"created_on": now}
        )
        if created:
            transaction.on_commit(lambda pk=delivery.pk: enqueue(pk, eta))
            planned += 1
    return planned


def enqueue(delivery_id: int, eta: datetime | None) -> None:
    from notifications.tasks import send_push  # tasks import this module

    if eta is None:
        send_push(delivery_id)
    else:
        send_push.schedule(args=(delivery_id,), eta=eta)


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


def deliver(delivery_id: int) -> float | None:
    """Push one delivery. None when it is settled (sent, dropped or given up), else how
    many seconds to wait before trying again."""
    delivery = (
        Delivery.objects.select_related("device", "notification__actor", "notification__funding")
        .filter(pk=delivery_id, state=Delivery.State.PENDING)
        .first()
    )
    if delivery is None:
        return None
    notification = delivery.notification
    if (
        delivery.device is None
        or PushSetting.objects.filter(account_id=notification.recipient_id, enabled=False).exists()
    ):
        _settle(delivery, Delivery.State.DROPPED, "no device, or push turned off")
        return None
    body = text(
        notification.kind,
        notification.actor.username if notification.actor else None,
        notification.funding.title if notification.funding else None,
        notification.data,
    )
    answer = send(
        token=delivery.device.token,
        title="FunSun",
        body=body,
        data={"notification": str(notification.pk), "kind": notification.kind},
    )
    delivery.attempts += 1
    if answer.outcome == Outcome.SENT:
        _settle(delivery, Delivery.State.SENT, "", sent_on=timezone.now())
        return None
    if answer.outcome == Outcome.TOKEN_GONE:
        device_id = delivery.device_id
        _settle(delivery, Delivery.State.DROPPED, answer.detail)
        Device.objects.filter(pk=device_id).delete()
        logger.info("fcm: device %s removed (%s)", device_id, answer.detail)
        return None
    if answer.outcome == Outcome.FAILED or delivery.attempts >= MAX_ATTEMPTS:
        _settle(delivery, Delivery.State.FAILED, answer.detail)
        logger.warning("fcm: delivery %s failed: %s", delivery.pk, answer.detail)
        return None
    delivery.last_error = answer.detail[:500]
    delivery.save(update_fields=["attempts", "last_error"])
    if answer.retry_after is not None:
        return answer.retry_after
    return min(FIRST_RETRY_SECONDS * 2 ** (delivery.attempts - 1), MAX_RETRY_SECONDS)


def _settle(delivery: Delivery, state: str, error: str, sent_on: datetime | None = None):
    delivery.state = state
    delivery.last_error = error[:500]
    delivery.sent_on = sent_on
    delivery.save(update_fields=["state", "attempts", "last_error", "sent_on"])

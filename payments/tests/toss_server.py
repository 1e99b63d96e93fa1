"""A local HTTP server that speaks Toss Payments' core payment API and plays its v2 SDK (TOSS.md).

Real HTTP on 127.0.0.1 (port 0), in a thread. It checks the Basic secret key, keeps payments
by paymentKey, and implements confirm / cancel / look-up with Toss's error codes and its
Idempotency-Key rules. It also serves a stand-in for the SDK script at `/v2/standard`: the
page's `requestPayment()` posts to `/_sdk/sessions` (the payment window), which authorises a
payment and sends the browser to the successUrl (or the failUrl when a test says so).

Tests steer it:
- `fail(endpoint, code=..., status=..., malformed=..., drop=..., after=..., hold=..., times=1)`:
  the next `times` calls of `endpoint` answer that error; `after=True` carries the call out
  first and only loses its answer; `hold=True` keeps the call until the test releases it.
- `hold(endpoint, after=False)`: the next call waits for `release()`; `wait_arrived()` waits
  until it is there. `decline(code)`: the card company refuses the next confirm.
- `next_buyer("fail" | "close", code=...)`: what the buyer does at the next payment window.
- `expire(paymentKey)`, `age(paymentKey, minutes)`, `force_status(paymentKey, status)`.
- `calls`, `count(endpoint)`, `wait_for_calls(...)`, `idempotency_keys`, `payments`.
- `send_webhook(url, paymentKey)`: Toss's PAYMENT_STATUS_CHANGED, returns the receiver's status.

Endpoints, as named here: "confirm", "cancel", "payment" (look-up by paymentKey), "order"
(look-up by orderId) and "sdk" (the payment window).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlparse

import httpx
import pytest

SECRET_KEY = "test_sk_funsunFakeToss0000000000"
CLIENT_KEY = "test_ck_funsunFakeToss0000000000"
MID = "tfunsun01"
KST = timezone(timedelta(hours=9))
# An authorised payment waits this long for its confirm; then Toss drops the session.
SESSION_VALIDITY = timedelta(minutes=10)
IDEMPOTENCY_WINDOW = timedelta(days=15)
IDEMPOTENCY_KEY_MAX = 300
STATUSES = (
    "READY",
    "IN_PROGRESS",
    "WAITING_FOR_DEPOSIT",
    "DONE",
    "CANCELED",
    "PARTIAL_CANCELED",
    "ABORTED",
    "EXPIRED",
)
# Statuses of a payment whose money moved (or, for a virtual account, is on its way).
PROCESSED = ("DONE", "CANCELED", "PARTIAL_CANCELED", "WAITING_FOR_DEPOSIT")
METHODS = {
    "CARD": "카드",
    "TRANSFER": "계좌이체",
    "VIRTUAL_ACCOUNT": "가상계좌",
    "MOBILE_PHONE": "휴대폰",
    "CULTURE_GIFT_CERTIFICATE": "문화상품권",
    "FOREIGN_EASY_PAY": "해외간편결제",
}
# Toss's HTTP status for each error code the fake can answer.
CODE_STATUS = {
    "ALREADY_PROCESSED_PAYMENT": 400,
    "ALREADY_CANCELED_PAYMENT": 400,
    "PROVIDER_ERROR": 400,
    "INVALID_REQUEST": 400,
    "INVALID_API_KEY": 400,
    "INVALID_REJECT_CARD": 400,
    "INVALID_STOPPED_CARD": 400,
    "BELOW_MINIMUM_AMOUNT": 400,
    "NOT_MATCHES_REFUNDABLE_AMOUNT": 400,
    "INVALID_IDEMPOTENCY_KEY": 400,
    "UNAUTHORIZED_KEY": 401,
    "REJECT_CARD_PAYMENT": 403,
    "REJECT_CARD_COMPANY": 403,
    "FORBIDDEN_REQUEST": 403,
    "FORBIDDEN_CONSECUTIVE_REQUEST": 403,
    "INCORRECT_BASIC_AUTH_FORMAT": 403,
    "NOT_CANCELABLE_AMOUNT": 403,
    "NOT_CANCELABLE_PAYMENT": 403,
    "EXCEED_MAX_REFUND_DUE": 403,
    "NOT_FOUND": 404,
    "NOT_FOUND_PAYMENT": 404,
    "NOT_FOUND_PAYMENT_SESSION": 404,
    "IDEMPOTENT_REQUEST_PROCESSING": 409,
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": 500,
    "FAILED_INTERNAL_SYSTEM_PROCESSING": 500,
    "UNKNOWN_PAYMENT_ERROR": 500,
    "FAILED_REFUND_PROCESS": 500,
}
MESSAGES = {
    "ALREADY_PROCESSED_PAYMENT": "이미 처리된 결제 입니다.",
    "ALREADY_CANCELED_PAYMENT": "이미 취소된 결제 입니다.",
    "PROVIDER_ERROR": "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.",
    "INVALID_REQUEST": "잘못된 요청입니다.",
    "INVALID_API_KEY": "잘못된 시크릿키 연동 정보 입니다.",
    "UNAUTHORIZED_KEY": "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
    "INCORRECT_BASIC_AUTH_FORMAT": "잘못된 요청입니다. ':' 를 포함해 인코딩해주세요.",
    "REJECT_CARD_PAYMENT": "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
    "REJECT_CARD_COMPANY": "결제 승인이 거절되었습니다.",
    "NOT_CANCELABLE_AMOUNT": "취소 할 수 없는 금액 입니다.",
    "NOT_CANCELABLE_PAYMENT": "취소 할 수 없는 결제 입니다.",
    "NOT_MATCHES_REFUNDABLE_AMOUNT": "잔액 결과가 일치하지 않습니다.",
    "NOT_FOUND_PAYMENT": "존재하지 않는 결제 정보 입니다.",
    "NOT_FOUND_PAYMENT_SESSION": "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.",
    "IDEMPOTENT_REQUEST_PROCESSING": "이전 멱등 요청이 처리 중입니다.",
    "INVALID_IDEMPOTENCY_KEY": "멱등키는 300자 이하여야 합니다.",
    "FAILED_INTERNAL_SYSTEM_PROCESSING": "내부 시스템 처리 작업이 실패했습니다.",
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": "결제가 완료되지 않았어요. 다시 시도해주세요.",
}
DEFAULT_CODE_FOR_STATUS = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED_KEY",
    403: "FORBIDDEN_REQUEST",
    404: "NOT_FOUND_PAYMENT",
    409: "IDEMPOTENT_REQUEST_PROCESSING",
}
ORDER_ID = re.compile(r"[A-Za-z0-9_=-]{6,64}")
CUSTOMER_KEY = re.compile(r"[A-Za-z0-9_=.@-]{2,50}")
SECRET_KEY_SHAPE = re.compile(r"(test|live)_g?sk_[A-Za-z0-9]+")
PAYMENT_PATH = re.compile(r"/v1/payments/(?P<key>[^/]+)")
CANCEL_PATH = re.compile(r"/v1/payments/(?P<key>[^/]+)/cancel")
ORDER_PATH = re.compile(r"/v1/payments/orders/(?P<order_id>[^/]+)")
SDK_PATH = "/v2/standard"
SESSION_PATH = "/_sdk/sessions"


def now() -> datetime:
    return datetime.now(KST)


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


class TossError(Exception):
    def __init__(self, code: str, message: str = "", status: int | None = None):
        super().__init__(code)
        self.code = code
        self.status = status or CODE_STATUS.get(code, 400)
        self.message = message or MESSAGES.get(code, code)

    @property
    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class WindowError(Exception):
    """The payment window refused the request (what the SDK's promise rejects with)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Payment:
    payment_key: str
    order_id: str
    order_name: str
    customer_key: str
    method: str
    total_amount: int
    success_url: str
    fail_url: str
    requested_at: datetime = field(default_factory=now)
    authorised_at: datetime = field(default_factory=now)
    status: str = "IN_PROGRESS"
    approved_at: datetime | None = None
    balance_amount: int = 0
    last_transaction_key: str | None = None
    cancels: list[dict[str, Any]] = field(default_factory=list)
    failure: dict[str, str] | None = None

    def __post_init__(self):
        self.balance_amount = self.total_amount

    def as_json(self, base_url: str) -> dict[str, Any]:
        """The Payment object, with the fields Toss documents that a merchant reads."""
        vat = round(self.total_amount / 11)
        done = self.approved_at is not None
        card = None
        if done and self.method == "카드":
            card = {
                "issuerCode": "61",
                "acquirerCode": "31",
                "number": "43301234****123*",
                "installmentPlanMonths": 0,
                "isInterestFree": False,
                "approveNo": "00000000",
                "useCardPoint": False,
                "cardType": "신용",
                "ownerType": "개인",
                "acquireStatus": "READY",
                "amount": self.total_amount,
            }
        return {
            "mId": MID,
            "version": "2022-11-16",
            "paymentKey": self.payment_key,
            "orderId": self.order_id,
            "orderName": self.order_name,
            "type": "NORMAL",
            "status": self.status,
            "method": self.method,
            "currency": "KRW",
            "country": "KR",
            "totalAmount": self.total_amount,
            "balanceAmount": self.balance_amount,
            "suppliedAmount": self.total_amount - vat,
            "vat": vat,
            "taxFreeAmount": 0,
            "taxExemptionAmount": 0,
            "requestedAt": _text(self.requested_at),
            "approvedAt": _text(self.approved_at),
            "lastTransactionKey": self.last_transaction_key,
            "isPartialCancelable": True,
            "useEscrow": False,
            "cultureExpense": False,
            "card": card,
            "virtualAccount": None,
            "easyPay": None,
            "cancels": [dict(cancel) for cancel in self.cancels] or None,
            "failure": self.failure,
            "receipt": {"url": f"{base_url}/receipt/{self.payment_key}"} if done else None,
            "checkout": {"url": f"{base_url}/v1/payments/{self.payment_key}/checkout"},
            "secret": None,
            "metadata": None,
        }


@dataclass
class Script:
    """One scripted behaviour of an endpoint, for its next `times` calls."""

    endpoint: str
    times: int = 1
    after: bool = False
    hold: bool = False
    status: int | None = None
    code: str | None = None
    message: str | None = None
    malformed: bool = False
    drop: bool = False
    decline: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def fails(self) -> bool:
        return bool(self.status or self.code or self.malformed or self.drop)

    def release(self) -> None:
        """Let the held call(s) go on."""
        self.released.set()

    def wait_arrived(self, timeout: float = 10.0) -> bool:
        """Whether a call reached this script within `timeout`: when held, it is waiting
        (before the work, or with `after` once the work is done)."""
        return self.arrived.wait(timeout)

    def wait_finished(self, timeout: float = 10.0) -> bool:
        """Whether the server finished a call of this script (its answer is on its way)."""
        return self.finished.wait(timeout)

    def _wait(self) -> None:
        self.arrived.set()
        if self.hold:
            self.released.wait()


@dataclass
class Call:
    endpoint: str
    method: str
    path: str
    body: Any
    idempotency_key: str | None
    status: int | None = None
    answer: Any = None
    replayed: bool = False


@dataclass
class Reply:
    status: int
    payload: Any = None
    malformed: bool = False
    drop: bool = False


@dataclass
class Remembered:
    """What Toss keeps under an Idempotency-Key: the first answer, once there is one."""

    first_seen: datetime
    reply: Reply | None = None


@dataclass
class Buyer:
    action: str = "pay"  # "pay", "fail" (to the failUrl) or "close" (the promise rejects)
    code: str = ""
    message: str = ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class FakeToss:
    def __init__(self, secret_key: str = SECRET_KEY, client_key: str = CLIENT_KEY):
        self.secret_key = secret_key
        self.client_key = client_key
        self.payments: dict[str, Payment] = {}
        self.calls: list[Call] = []
        self.idempotency_keys: list[str] = []
        self.sdk_requests: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []
        self.scripts: dict[str, list[Script]] = {}
        self.buyers: list[Buyer] = []
        self.remembered: dict[tuple[str, str], Remembered] = {}
        self.lock = threading.Lock()
        self.arrivals = threading.Condition(self.lock)
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        # A short poll interval: stopping the server at teardown takes 20 ms, not 500.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._all_scripts: list[Script] = []

    # --- control -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def sdk_url(self) -> str:
        return self.base_url + SDK_PATH

    def start(self) -> FakeToss:
        self.thread.start()
        return self

    def stop(self) -> None:
        for script in self._all_scripts:
            script.release()  # no handler thread stays blocked past the test
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail(self, endpoint: str, **kwargs: Any) -> Script:
        """Script the next call(s) of `endpoint`; see the module docstring."""
        script = Script(endpoint, **kwargs)
        with self.lock:
            self.scripts.setdefault(endpoint, []).append(script)
            self._all_scripts.append(script)
        return script

    def hold(self, endpoint: str, *, after: bool = False, times: int = 1) -> Script:
        """The next call of `endpoint` waits until `release()`; with `after`, it is carried
        out first and only its answer waits."""
        return self.fail(endpoint, hold=True, after=after, times=times)

    def decline(self, code: str = "REJECT_CARD_PAYMENT", message: str = "") -> Script:
        """The card company refuses the next confirm: the payment ends ABORTED."""
        return self.fail("confirm", code=code, message=message or None, decline=True)

    def next_buyer(self, action: str, code: str = "", message: str = "") -> None:
        """What the buyer at the next payment window does instead of paying."""
        if action == "fail":
            code = code or "PAY_PROCESS_ABORTED"
            message = message or "결제 진행 중 승인에 실패하여 결제가 중단되었습니다."
        elif action == "close":
            code = code or "USER_CANCEL"
            message = message or "사용자가 결제를 취소하였습니다"
        else:
            raise ValueError(f"unknown buyer action {action!r}")
        with self.lock:
            self.buyers.append(Buyer(action, code, message))

    def expire(self, payment_key: str) -> None:
        """Toss dropped the session: the payment is EXPIRED and confirm cannot find it."""
        with self.lock:
            self.payments[payment_key].status = "EXPIRED"

    def age(self, payment_key: str, minutes: float) -> None:
        """Pretend the buyer authorised the payment `minutes` earlier."""
        with self.lock:
            payment = self.payments[payment_key]
            payment.authorised_at -= timedelta(minutes=minutes)
            payment.requested_at -= timedelta(minutes=minutes)

    def force_status(self, payment_key: str, status: str) -> None:
        """Set a payment's status as Toss would report it (amounts are left as they are)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self.lock:
            payment = self.payments[payment_key]
            payment.status = status
            if status == "DONE" and payment.approved_at is None:
                payment.approved_at = now()
                payment.last_transaction_key = _transaction_key()

    def forget_idempotency_key(self, key: str) -> None:
        """Its window has passed: Toss treats the key as new again."""
        with self.lock:
            for remembered_key in [k for k in self.remembered if k[0] == key]:
                self.remembered[remembered_key].first_seen -= IDEMPOTENCY_WINDOW

    def payment_json(self, payment_key: str) -> dict[str, Any]:
        with self.lock:
            return self.payments[payment_key].as_json(self.base_url)

    def by_order(self, order_id: str) -> Payment | None:
        with self.lock:
            return self._by_order(order_id)

    def count(self, endpoint: str) -> int:
        """How many calls of `endpoint` arrived (held ones included)."""
        with self.lock:
            return sum(call.endpoint == endpoint for call in self.calls)

    def calls_of(self, endpoint: str, *, ok: bool | None = None) -> list[Call]:
        with self.lock:
            calls = [call for call in self.calls if call.endpoint == endpoint]
        if ok is None:
            return calls
        return [call for call in calls if (call.status == 200) == ok]

    def wait_for_calls(self, endpoint: str, count: int, timeout: float = 10.0) -> list[Call]:
        """The calls of `endpoint` once `count` have arrived (or when `timeout` has passed)."""
        deadline = time.monotonic() + timeout
        with self.arrivals:
            while True:
                calls = [call for call in self.calls if call.endpoint == endpoint]
                left = deadline - time.monotonic()
                if len(calls) >= count or left <= 0:
                    return calls
                self.arrivals.wait(left)

    def authorise(
        self,
        order_id: str,
        amount: int,
        *,
        order_name: str = "FunSun 선물 펀딩",
        customer_key: str = "customer-1",
        method: str = "CARD",
        success_url: str = "http://127.0.0.1/success",
        fail_url: str = "http://127.0.0.1/fail",
    ) -> str:
        """The buyer authorised a payment at the window; returns its paymentKey."""
        with self.lock:
            return self._authorise(
                {
                    "orderId": order_id,
                    "orderName": order_name,
                    "customerKey": customer_key,
                    "method": method,
                    "amount": {"currency": "KRW", "value": amount},
                    "successUrl": success_url,
                    "failUrl": fail_url,
                }
            ).payment_key

    def request_payment(self, params: dict[str, Any], *, client_key: str | None = None) -> str:
        """What the SDK does for `payment({customerKey}).requestPayment(params)`, over HTTP:
        returns the URL the browser is sent to, or raises WindowError."""
        body = {"clientKey": client_key or self.client_key, **params}
        response = httpx.post(self.base_url + SESSION_PATH, json=body, timeout=10)
        answer = response.json()
        if response.status_code != 200:
            raise WindowError(answer.get("code", ""), answer.get("message", ""))
        return answer["redirect"]

    def send_webhook(
        self,
        url: str,
        payment_key: str,
        *,
        status: str | None = None,
        data: dict[str, Any] | None = None,
        timeout: float = 10.0,
    ) -> int:
        """POST Toss's PAYMENT_STATUS_CHANGED for a payment to `url`; returns the HTTP status
        the receiver answered. `status` or `data` override what is sent (a forged event)."""
        payload = data if data is not None else self.payment_json(payment_key)
        if status is not None:
            payload = {**payload, "status": status}
        event = {
            "eventType": "PAYMENT_STATUS_CHANGED",
            # Toss writes this one in Korea's local time, without an offset.
            "createdAt": now().replace(tzinfo=None).isoformat(timespec="microseconds"),
            "data": payload,
        }
        response = httpx.post(url, json=event, timeout=timeout)
        with self.lock:
            self.webhooks.append({"url": url, "event": event, "status": response.status_code})
        return response.status_code

    # --- protocol ------------------------------------------------------------------------

    def _next_script(self, endpoint: str) -> Script | None:
        with self.lock:
            queue = self.scripts.get(endpoint) or []
            if not queue:
                return None
            script = queue[0]
            script.times -= 1
            if script.times <= 0:
                queue.pop(0)
            return script

    def _by_order(self, order_id: str) -> Payment | None:
        """The payment of an order: the one that went through, else the latest attempt."""
        found = [p for p in self.payments.values() if p.order_id == order_id]
        processed = [p for p in found if p.status in PROCESSED]
        return (processed or found or [None])[-1]

    def serve(self, endpoint: str, method: str, path: str, headers, raw: bytes) -> Reply:
        key = headers.get("Idempotency-Key") if method == "POST" else None
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        call = Call(endpoint, method, path, body, key)
        with self.arrivals:
            self.calls.append(call)
            if key is not None:
                self.idempotency_keys.append(key)
            self.arrivals.notify_all()
        script = self._next_script(endpoint)
        try:
            reply = self._serve(call, script, headers)
            with self.lock:
                call.status, call.answer = reply.status, reply.payload
        finally:
            if script is not None:
                script.finished.set()
        return reply

    def _serve(self, call: Call, script: Script | None, headers) -> Reply:
        before = script if script is not None and not script.after else None
        if call.endpoint == "sdk":
            reply = self._before(call, before) or self._window(call.body)
        else:
            reply = self._api(call, headers, before)
        if script is not None and script.after:
            script._wait()
            if script.fails:
                return self._scripted(script, reply)
        return reply

    def _before(self, call: Call, script: Script | None) -> Reply | None:
        """A behaviour scripted to come before the work: its answer, or None to go on."""
        if script is None:
            return None
        script._wait()
        if script.decline:
            self._decline(call.body, script)
        return self._scripted(script, None) if script.fails else None

    def _api(self, call: Call, headers, before: Script | None) -> Reply:
        try:
            self._authenticate(headers.get("Authorization") or "")
            if call.method == "POST" and not isinstance(call.body, dict):
                raise TossError("INVALID_REQUEST", "요청 본문은 JSON 객체여야 합니다.")
            key = call.idempotency_key
            if key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
                raise TossError("INVALID_IDEMPOTENCY_KEY")
        except TossError as exc:
            return self._before(call, before) or Reply(exc.status, exc.body)
        if key is None:
            return self._before(call, before) or self._process(call)
        # Toss remembers a key with the API key, the URL and the method, not with the body.
        scope = (key, f"{call.method} {call.path}")
        with self.lock:
            remembered = self.remembered.get(scope)
            fresh = remembered and now() - remembered.first_seen < IDEMPOTENCY_WINDOW
            if not fresh:
                # Taken from the moment the call arrives: a second call with the key meanwhile
                # finds it in progress.
                remembered = self.remembered[scope] = Remembered(first_seen=now())
        if fresh:
            if remembered.reply is None:
                error = TossError("IDEMPOTENT_REQUEST_PROCESSING")
                return self._before(call, before) or Reply(error.status, error.body)
            call.replayed = True
            return self._before(call, before) or remembered.reply
        try:
            scripted = self._before(call, before)
            reply = scripted or self._process(call)
        except BaseException:
            with self.lock:
                del self.remembered[scope]
            raise
        with self.lock:
            if scripted is None:
                remembered.reply = reply
            else:
                del self.remembered[scope]  # Toss never did the work: the key is free again
        return reply

    def _authenticate(self, authorization: str) -> None:
        scheme, _, credentials = authorization.partition(" ")
        if scheme != "Basic" or not credentials:
            raise TossError("UNAUTHORIZED_KEY")
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise TossError("INCORRECT_BASIC_AUTH_FORMAT") from None
        secret, colon, password = decoded.partition(":")
        if not colon or password:
            raise TossError("INCORRECT_BASIC_AUTH_FORMAT")
        if not SECRET_KEY_SHAPE.fullmatch(secret):
            # A client key, or something that is no Toss key at all.
            raise TossError("INVALID_API_KEY")
        if secret != self.secret_key:
            raise TossError("UNAUTHORIZED_KEY")

    def _process(self, call: Call) -> Reply:
        try:
            with self.lock:
                if call.endpoint == "confirm":
                    payment = self._confirm(call.body)
                elif call.endpoint == "cancel":
                    key = CANCEL_PATH.fullmatch(call.path)["key"]
                    payment = self._cancel(unquote(key), call.body)
                elif call.endpoint == "payment":
                    key = unquote(PAYMENT_PATH.fullmatch(call.path)["key"])
                    payment = self.payments.get(key)
                    if payment is None:
                        raise TossError("NOT_FOUND_PAYMENT")
                elif call.endpoint == "order":
                    order_id = unquote(ORDER_PATH.fullmatch(call.path)["order_id"])
                    payment = self._by_order(order_id)
                    if payment is None:
                        raise TossError("NOT_FOUND_PAYMENT")
                else:
                    raise TossError("NOT_FOUND", "존재하지 않는 API 입니다.", status=404)
                return Reply(200, payment.as_json(self.base_url))
        except TossError as exc:
            return Reply(exc.status, exc.body)

    def _confirm(self, body: dict[str, Any]) -> Payment:
        payment_key, order_id, amount = (body.get(k) for k in ("paymentKey", "orderId", "amount"))
        if not isinstance(payment_key, str) or not isinstance(order_id, str):
            raise TossError("INVALID_REQUEST", "paymentKey와 orderId는 필수입니다.")
        if not _is_amount(amount):
            raise TossError("INVALID_REQUEST", "amount는 양의 정수여야 합니다.")
        payment = self.payments.get(payment_key)
        if payment is None or payment.order_id != order_id:
            raise TossError("NOT_FOUND_PAYMENT_SESSION")
        if self._by_order(order_id).status in PROCESSED:
            # This payment, or another window's payment of the same order, went through.
            raise TossError("ALREADY_PROCESSED_PAYMENT")
        if payment.status == "IN_PROGRESS" and now() - payment.authorised_at > SESSION_VALIDITY:
            payment.status = "EXPIRED"
        if payment.status != "IN_PROGRESS":
            raise TossError("NOT_FOUND_PAYMENT_SESSION")
        if amount != payment.total_amount:
            # Toss documents no dedicated code for this; it refuses the request as invalid.
            raise TossError("INVALID_REQUEST", "결제 금액이 결제 요청 금액과 다릅니다.")
        payment.approved_at = now()
        payment.last_transaction_key = _transaction_key()
        payment.status = "WAITING_FOR_DEPOSIT" if payment.method == "가상계좌" else "DONE"
        return payment

    def _cancel(self, payment_key: str, body: dict[str, Any]) -> Payment:
        payment = self.payments.get(payment_key)
        if payment is None:
            raise TossError("NOT_FOUND_PAYMENT")
        reason = body.get("cancelReason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
            raise TossError("INVALID_REQUEST", "cancelReason은 200자 이하의 필수 값입니다.")
        if payment.status == "CANCELED":
            raise TossError("ALREADY_CANCELED_PAYMENT")
        if payment.status not in ("DONE", "PARTIAL_CANCELED"):
            raise TossError("NOT_CANCELABLE_PAYMENT")
        amount = body.get("cancelAmount", payment.balance_amount)
        if amount is None:
            amount = payment.balance_amount
        if not _is_amount(amount):
            raise TossError("INVALID_REQUEST", "cancelAmount는 양의 정수여야 합니다.")
        refundable = body.get("refundableAmount")
        if refundable is not None and refundable != payment.balance_amount:
            raise TossError("NOT_MATCHES_REFUNDABLE_AMOUNT")
        if amount > payment.balance_amount:
            raise TossError("NOT_CANCELABLE_AMOUNT")
        payment.balance_amount -= amount
        payment.status = "CANCELED" if payment.balance_amount == 0 else "PARTIAL_CANCELED"
        payment.last_transaction_key = _transaction_key()
        payment.cancels.append(
            {
                "transactionKey": payment.last_transaction_key,
                "cancelReason": reason,
                "cancelAmount": amount,
                "taxFreeAmount": 0,
                "taxExemptionAmount": 0,
                "easyPayDiscountAmount": 0,
                "refundableAmount": payment.balance_amount,
                "canceledAt": _text(now()),
                "cancelStatus": "DONE",
                "cancelRequestId": None,
                "receiptKey": None,
            }
        )
        return payment

    def _decline(self, body: Any, script: Script) -> None:
        with self.lock:
            payment = self.payments.get(body.get("paymentKey")) if isinstance(body, dict) else None
            if payment is not None and payment.status == "IN_PROGRESS":
                error = TossError(script.code or "REJECT_CARD_PAYMENT", script.message or "")
                payment.status = "ABORTED"
                payment.failure = error.body

    @staticmethod
    def _scripted(script: Script, reply: Reply | None) -> Reply:
        if script.drop:
            return Reply(0, drop=True)
        if script.malformed:
            payload = reply.payload if reply is not None else {"code": "INVALID_REQUEST"}
            return Reply(script.status or 200, payload, malformed=True)
        code = script.code or DEFAULT_CODE_FOR_STATUS.get(
            script.status or 500, "FAILED_INTERNAL_SYSTEM_PROCESSING"
        )
        error = TossError(code, script.message or "", status=script.status)
        return Reply(error.status, error.body)

    # --- the payment window ---------------------------------------------------------------

    def _window(self, body: Any) -> Reply:
        try:
            if not isinstance(body, dict):
                raise WindowError("INVALID_REQUEST", "요청 본문은 JSON 객체여야 합니다.")
            with self.lock:
                self.sdk_requests.append(body)
                self._check_window_request(body)
                buyer = self.buyers.pop(0) if self.buyers else Buyer()
                if buyer.action == "close":
                    raise WindowError(buyer.code, buyer.message)
                if buyer.action == "fail":
                    query = {
                        "code": buyer.code,
                        "message": buyer.message,
                        "orderId": body["orderId"],
                    }
                    return Reply(200, {"redirect": _with_query(body["failUrl"], query)})
                payment = self._authorise(body)
            query = {
                "paymentType": "NORMAL",
                "orderId": payment.order_id,
                "paymentKey": payment.payment_key,
                "amount": payment.total_amount,
            }
            return Reply(200, {"redirect": _with_query(payment.success_url, query)})
        except WindowError as exc:
            status = 401 if exc.code == "INVALID_CLIENT_KEY" else 400
            return Reply(status, {"code": exc.code, "message": exc.message})

    def _check_window_request(self, body: dict[str, Any]) -> None:
        if body.get("clientKey") != self.client_key:
            raise WindowError("INVALID_CLIENT_KEY", "클라이언트 키가 올바르지 않습니다.")
        customer_key = body.get("customerKey")
        if not isinstance(customer_key, str) or not CUSTOMER_KEY.fullmatch(customer_key):
            raise WindowError("INVALID_CUSTOMER_KEY", "customerKey 형식이 올바르지 않습니다.")
        if body.get("method") not in METHODS:
            raise WindowError("INVALID_METHOD", "지원하지 않는 결제수단입니다.")
        amount = body.get("amount")
        if (
            not isinstance(amount, dict)
            or amount.get("currency") != "KRW"
            or not _is_amount(amount.get("value"))
        ):
            raise WindowError("INVALID_AMOUNT", "amount는 {currency: 'KRW', value} 입니다.")
        order_id = body.get("orderId")
        if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
            raise WindowError("INVALID_ORDER_ID", "orderId는 6자 이상 64자 이하입니다.")
        order_name = body.get("orderName")
        if not isinstance(order_name, str) or not 0 < len(order_name) <= 100:
            raise WindowError("INVALID_ORDER_NAME", "orderName은 100자 이하의 필수 값입니다.")
        for name in ("successUrl", "failUrl"):
            url = urlparse(str(body.get(name) or ""))
            if url.scheme not in ("http", "https") or not url.netloc:
                raise WindowError("INVALID_URL", f"{name}은 절대 URL이어야 합니다.")
        earlier = self._by_order(order_id)
        if earlier is not None and earlier.status in PROCESSED:
            raise WindowError("DUPLICATED_ORDER_ID", "이미 승인 및 취소가 진행된 주문번호입니다.")

    def _authorise(self, body: dict[str, Any]) -> Payment:
        moment = now()
        payment_key = f"{MID[:5]}{moment:%Y%m%d%H%M%S}{secrets.token_urlsafe(4)[:5]}"
        payment = Payment(
            payment_key=payment_key,
            order_id=body["orderId"],
            order_name=body["orderName"],
            customer_key=body["customerKey"],
            method=METHODS[body["method"]],
            total_amount=body["amount"]["value"],
            success_url=body["successUrl"],
            fail_url=body["failUrl"],
            requested_at=moment,
            authorised_at=moment,
        )
        self.payments[payment_key] = payment
        return payment

    def _script_js(self) -> bytes:
        source = Path(__file__).with_name("toss_sdk.js").read_text(encoding="utf-8")
        return source.replace("__SESSIONS_URL__", json.dumps(self.base_url + SESSION_PATH)).encode()

    # --- HTTP ------------------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _cors(self) -> None:
                # The checkout page lives on another origin and calls the window with fetch().
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                self.send_header("Access-Control-Max-Age", "600")

            def _send(self, reply: Reply, *, cors: bool = False) -> None:
                if reply.drop:
                    self.close_connection = True  # nothing written: the client sees a hang-up
                    return
                data = json.dumps(reply.payload, ensure_ascii=False).encode()
                if reply.malformed:
                    data = data[: max(1, len(data) // 2)]
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    if cors:
                        self._cors()
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a time-out test)

            def _route(self, method: str, path: str) -> str:
                if method == "POST" and path == SESSION_PATH:
                    return "sdk"
                if method == "POST" and path == "/v1/payments/confirm":
                    return "confirm"
                if method == "POST" and CANCEL_PATH.fullmatch(path):
                    return "cancel"
                if method == "GET" and ORDER_PATH.fullmatch(path):
                    return "order"
                if method == "GET" and PAYMENT_PATH.fullmatch(path):
                    return "payment"
                return ""

            def _dispatch(self, method: str) -> None:
                path = urlparse(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if method == "GET" and path == SDK_PATH:
                    self._send_script()
                    return
                endpoint = self._route(method, path)
                if not endpoint:
                    error = TossError("NOT_FOUND", "존재하지 않는 API 입니다.", status=404)
                    self._send(Reply(404, error.body))
                    return
                reply = fake.serve(endpoint, method, path, self.headers, raw)
                self._send(reply, cors=endpoint == "sdk")

            def _send_script(self) -> None:
                data = fake._script_js()
                self.send_response(200)
                self.send_header("Content-Type", "text/javascript; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Cross-Origin-Resource-Policy", "cross-origin")
                self._cors()
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._dispatch("GET")

            def do_POST(self):
                self._dispatch("POST")

            def do_OPTIONS(self):
                self.send_response(204)
                self._cors()
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _transaction_key() -> str:
    return secrets.token_hex(16).upper()


def _with_query(url: str, params: dict[str, Any]) -> str:
    separator = "&" if urlparse(url).query else "?"
    return url + separator + urlencode(params, quote_via=quote)


def basic_auth(secret_key: str) -> str:
    """The Authorization header Toss expects: the secret key and a colon, in base64."""
    return "Basic " + base64.b64encode(f"{secret_key}:".encode()).decode()


@pytest.fixture(name="toss")
def toss_fixture(settings):
    """A local Toss Payments, with the server configured to use it (the SDK script included,
    a generous time-out)."""
    server = FakeToss().start()
    settings.PAYMENT_PROVIDER = "toss"
    # Generous: a loaded test machine must not turn a slow answer into a time-out.
    settings.TOSS_TIMEOUT_SECONDS = 10.0
    settings.TOSS_API_BASE_URL = server.base_url
    settings.TOSS_SECRET_KEY = SECRET_KEY
    settings.TOSS_CLIENT_KEY = CLIENT_KEY
    settings.TOSS_SDK_URL = server.sdk_url
    yield server
    server.stop()

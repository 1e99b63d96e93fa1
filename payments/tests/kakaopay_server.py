"""A local HTTP server that speaks Kakao Pay's online single-payment protocol (docs/KAKAO.md).

Real HTTP on 127.0.0.1 (port 0), in a thread. It checks the `SECRET_KEY` header and the
cid, keeps its orders by tid, implements ready / approve / cancel / order with Kakao's error
codes, and plays the buyer: `GET /pay/<tid>` authorises the order and redirects to the
approval URL with a pg_token (`?quit=1` goes to the cancel URL instead).

Tests steer it:
- `fail(call, status=500, error_code=None, method_result_code=None, after=False, times=1)`:
  the next `times` calls of `call` answer that error; with `after=True` the call is carried
  out first and only its answer is lost.
- `hold(call, after=True)`: the next call of `call` is carried out, then its answer is held
  until the test calls `release()` on the returned Hold (`wait_arrived()`: the call is in;
  `wait_finished()`: answered and recorded). With `after=False` the call waits before Kakao
  Pay does anything: a Kakao Pay still working when the client gives up, which does the work
  once released. A client time-out test holds the answer and sets a short client time-out:
  the client always gives up first, however slow the machine; no test waits on a sleep.
- `calls`: every request received, in order, with its answer's status.
- `orders`: the state of each tid.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

PREFIX = "/online/v1/payment/"
TID_VALIDITY = timedelta(minutes=15)


@dataclass
class Order:
    tid: str
    cid: str
    partner_order_id: str
    partner_user_id: str
    item_name: str
    total_amount: int
    approval_url: str
    cancel_url: str
    fail_url: str
    created: datetime = field(default_factory=datetime.now)
    status: str = "READY"
    pg_token: str | None = None
    approved_at: datetime | None = None
    canceled_amount: int = 0
    actions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cancel_available(self) -> int:
        if self.status not in ("SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT"):
            return 0
        return self.total_amount - self.canceled_amount


@dataclass
class Failure:
    status: int = 500
    error_code: int | None = None
    method_result_code: str | None = None
    after: bool = False
    times: int = 1


@dataclass
class Hold:
    after: bool = True  # held after Kakao Pay did the work (else before it)
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()

    def wait_arrived(self, timeout: float = 30.0) -> bool:
        return self.arrived.wait(timeout)

    def wait_finished(self, timeout: float = 30.0) -> bool:
        """Once released: whether the call was answered (or its client was gone) and
        recorded in `calls`."""
        return self.finished.wait(timeout)


HOLD_LIMIT = 60.0  # a held answer is let go after this long even if the test forgot it


@dataclass
class Call:
    call: str
    body: dict[str, Any]
    status: int
    answer: dict[str, Any]


class KakaoError(Exception):
    def __init__(self, status: int, code: int, message: str, method_result_code: str = ""):
        self.status = status
        self.body = {
            "error_code": code,
            "error_message": message,
            "extras": {
                "method_result_code": method_result_code,
                "method_result_message": message if method_result_code else "",
            },
        }


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many payers at once (the concurrency tests)


class FakeKakaoPay:
    def __init__(self, secret_key: str = "test-secret-key", cid: str = "TC0ONETIME"):
        self.secret_key = secret_key
        self.cid = cid
        self.orders: dict[str, Order] = {}
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = {}
        self.holds: dict[str, list[Hold]] = {}
        self.every_hold: list[Hold] = []  # stop() lets every one go
        self._current = threading.local()  # the Hold of the call this thread serves
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- control -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeKakaoPay:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.lock:
            holds = list(self.every_hold)
        for hold in holds:
            hold.release()
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail(self, call: str, **kwargs: Any) -> None:
        with self.lock:
            self.failures.setdefault(call, []).append(Failure(**kwargs))

    def hold(self, call: str, *, after: bool = True) -> Hold:
        hold = Hold(after=after)
        with self.lock:
            self.holds.setdefault(call, []).append(hold)
            self.every_hold.append(hold)
        return hold

    def calls_of(self, call: str, *, ok: bool | None = None) -> list[Call]:
        with self.lock:
            calls = [c for c in self.calls if c.call == call]
        if ok is None:
            return calls
        return [c for c in calls if (c.status == 200) == ok]

    def wait_for_calls(self, call: str, count: int, timeout: float = 5.0) -> list[Call]:
        """The calls of `call` once there are `count` (a delayed answer is recorded late)."""
        deadline = time.monotonic() + timeout
        while len(self.calls_of(call)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.calls_of(call)

    def pay(self, tid: str) -> str:
        """The buyer authorises the order; returns the pg_token (as the redirect would)."""
        with self.lock:
            order = self.orders[tid]
            if order.status == "READY":
                order.status = "AUTH_PASSWORD"
                order.pg_token = secrets.token_hex(10)
            return order.pg_token or ""

    def age(self, tid: str, minutes: float) -> None:
        """Pretend the order was made `minutes` earlier."""
        with self.lock:
            self.orders[tid].created -= timedelta(minutes=minutes)

    # --- protocol ------------------------------------------------------------------------

    def _next_failure(self, call: str) -> Failure | None:
        with self.lock:
            queue = self.failures.get(call) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def _wait_for_release(self, hold: Hold) -> None:
        hold.arrived.set()
        hold.released.wait(HOLD_LIMIT)

    def handle(self, call: str, body: dict[str, Any], authorization: str) -> tuple[int, dict]:
        with self.lock:
            queue = self.holds.get(call) or []
            hold = queue.pop(0) if queue else None
        # The request handler marks it done once the answer is sent and recorded.
        self._current.hold = hold
        if hold is not None and not hold.after:
            self._wait_for_release(hold)
        failure = self._next_failure(call)
        if failure and not failure.after:
            if failure.status or failure.error_code:
                return self._failure_answer(failure)
        status, answer = self._process(call, body, authorization)
        if hold is not None and hold.after:
            self._wait_for_release(hold)
        if failure and failure.after:
            if failure.status or failure.error_code:
                return self._failure_answer(failure)
        return status, answer

    @staticmethod
    def _failure_answer(failure: Failure) -> tuple[int, dict]:
        status = failure.status or 400
        code = failure.error_code if failure.error_code is not None else -9798
        message = "injected failure"
        if failure.method_result_code:
            message = "another transaction of the user is in progress"
        error = KakaoError(status, code, message, failure.method_result_code or "")
        return status, error.body

    def _process(self, call: str, body: dict[str, Any], authorization: str) -> tuple[int, dict]:
        try:
            if authorization != f"SECRET_KEY {self.secret_key}":
                raise KakaoError(401, -401, "invalid secret key")
            if body.get("cid") != self.cid:
                raise KakaoError(400, -401, "invalid cid")
            handler = {
                "ready": self._ready,
                "approve": self._approve,
                "cancel": self._cancel,
                "order": self._order_status,
            }.get(call)
            if handler is None:
                raise KakaoError(404, -9999, "unknown call")
            with self.lock:
                return 200, handler(body)
        except KakaoError as exc:
            return exc.status, exc.body

    def _find(self, body: dict[str, Any]) -> Order:
        order = self.orders.get(str(body.get("tid")))
        if order is None:
            raise KakaoError(400, -721, "tid does not exist")
        return order

    def _ready(self, body: dict[str, Any]) -> dict[str, Any]:
        required = (
            "partner_order_id",
            "partner_user_id",
            "item_name",
            "quantity",
            "total_amount",
            "tax_free_amount",
            "approval_url",
            "cancel_url",
            "fail_url",
        )
        missing = [name for name in required if body.get(name) in (None, "")]
        if missing:
            raise KakaoError(400, -2, f"missing {', '.join(missing)}")
        if not isinstance(body["total_amount"], int) or body["total_amount"] <= 0:
            raise KakaoError(400, -2, "invalid total_amount")
        tid = "T" + secrets.token_hex(10)[:19]
        self.orders[tid] = Order(
            tid=tid,
            cid=body["cid"],
            partner_order_id=body["partner_order_id"],
            partner_user_id=body["partner_user_id"],
            item_name=body["item_name"],
            total_amount=body["total_amount"],
            approval_url=body["approval_url"],
            cancel_url=body["cancel_url"],
            fail_url=body["fail_url"],
        )
        url = f"{self.base_url}/pay/{tid}"
        return {
            "tid": tid,
            "next_redirect_app_url": f"{url}?ui=app",
            "next_redirect_mobile_url": f"{url}?ui=mobile",
            "next_redirect_pc_url": f"{url}?ui=pc",
            "android_app_scheme": f"kakaotalk://kakaopay/pg?url={url}",
            "ios_app_scheme": f"kakaotalk://kakaopay/pg?url={url}",
            "created_at": _text(datetime.now()),
        }

    def _approve(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._find(body)
        if body.get("partner_order_id") != order.partner_order_id:
            raise KakaoError(400, -706, "partner_order_id differs from ready")
        if body.get("partner_user_id") != order.partner_user_id:
            raise KakaoError(400, -707, "partner_user_id differs from ready")
        if order.status in ("SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT", "CANCEL_PAYMENT"):
            raise KakaoError(400, -702, "payment already approved")
        if datetime.now() - order.created > TID_VALIDITY:
            raise KakaoError(400, -723, "payment expired")
        if order.status == "QUIT_PAYMENT":
            raise KakaoError(400, -780, "approve failed: the buyer quit")
        if order.status == "READY":
            raise KakaoError(400, -701, "the buyer has not finished the payment")
        if body.get("pg_token") != order.pg_token:
            raise KakaoError(400, -708, "invalid pg_token")
        if "total_amount" in body and body["total_amount"] != order.total_amount:
            raise KakaoError(400, -780, "approve failed: amount differs")
        order.status = "SUCCESS_PAYMENT"
        order.approved_at = datetime.now()
        aid = "A" + secrets.token_hex(10)[:19]
        order.actions.append(
            {
                "aid": aid,
                "approved_at": _text(order.approved_at),
                "amount": order.total_amount,
                "payment_action_type": "PAYMENT",
            }
        )
        return {
            "aid": aid,
            "tid": order.tid,
            "cid": order.cid,
            "partner_order_id": order.partner_order_id,
            "partner_user_id": order.partner_user_id,
            "payment_method_type": "MONEY",
            "amount": {
                "total": order.total_amount,
                "tax_free": 0,
                "vat": order.total_amount // 11,
                "point": 0,
                "discount": 0,
                "green_deposit": 0,
            },
            "item_name": order.item_name,
            "quantity": 1,
            "created_at": _text(order.created),
            "approved_at": _text(order.approved_at),
        }

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._find(body)
        if order.status not in ("SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT"):
            raise KakaoError(400, -784, "the payment cannot be canceled in its state")
        amount = body.get("cancel_amount")
        if not isinstance(amount, int) or amount <= 0:
            raise KakaoError(400, -2, "invalid cancel_amount")
        if body.get("cancel_tax_free_amount") is None:
            raise KakaoError(400, -2, "missing cancel_tax_free_amount")
        expected = body.get("cancel_available_amount")
        if expected is not None and expected != order.cancel_available:
            raise KakaoError(400, -710, "cancel_available_amount does not match")
        if amount > order.cancel_available:
            raise KakaoError(400, -710, "cancel amount exceeds the cancellable amount")
        order.canceled_amount += amount
        order.status = (
            "CANCEL_PAYMENT"
            if order.canceled_amount == order.total_amount
            else "PART_CANCEL_PAYMENT"
        )
        now = datetime.now()
        order.actions.append(
            {
                "aid": "A" + secrets.token_hex(10)[:19],
                "approved_at": _text(now),
                "amount": amount,
                "payment_action_type": "CANCEL",
            }
        )
        return {
            "aid": order.actions[-1]["aid"],
            "tid": order.tid,
            "cid": order.cid,
            "status": order.status,
            "partner_order_id": order.partner_order_id,
            "partner_user_id": order.partner_user_id,
            "payment_method_type": "MONEY",
            "amount": {"total": order.total_amount},
            "approved_cancel_amount": {"total": amount},
            "canceled_amount": {"total": order.canceled_amount},
            "cancel_available_amount": {"total": order.cancel_available},
            "item_name": order.item_name,
            "quantity": 1,
            "created_at": _text(order.created),
            "approved_at": _text(order.approved_at),
            "canceled_at": _text(now),
        }

    def _order_status(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._find(body)
        return {
            "tid": order.tid,
            "cid": order.cid,
            "status": order.status,
            "partner_order_id": order.partner_order_id,
            "partner_user_id": order.partner_user_id,
            "payment_method_type": "MONEY",
            "item_name": order.item_name,
            "quantity": 1,
            "amount": {"total": order.total_amount},
            "canceled_amount": {"total": order.canceled_amount},
            "cancel_available_amount": {"total": order.cancel_available},
            "created_at": _text(order.created),
            "approved_at": _text(order.approved_at),
            "payment_action_details": list(order.actions),
        }

    def _buyer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str]:
        tid = path.rsplit("/", 1)[-1]
        with self.lock:
            order = self.orders.get(tid)
            if order is None:
                return 404, ""
            if "quit" in query:
                if order.status in ("READY", "AUTH_PASSWORD"):
                    order.status = "QUIT_PAYMENT"
                return 302, order.cancel_url
            if datetime.now() - order.created > TID_VALIDITY:
                return 302, order.fail_url
        token = self.pay(tid)
        return 302, f"{order.approval_url}?pg_token={token}"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, payload: dict | None = None, location: str = ""):
                data = json.dumps(payload or {}).encode()
                try:
                    self.send_response(status)
                    if location:
                        self.send_header("Location", location)
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a time-out test)

            def do_GET(self):
                parsed = urlparse(self.path)
                if parsed.path.startswith("/pay/"):
                    status, location = fake._buyer(parsed.path, parse_qs(parsed.query))
                    self._send(status, location=location)
                    return
                self._send(404, {"error_code": -9999, "error_message": "not found"})

            def do_POST(self):
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                call = parsed.path[len(PREFIX) :] if parsed.path.startswith(PREFIX) else ""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                if not isinstance(body, dict) or "json" not in (
                    self.headers.get("Content-Type") or ""
                ):
                    status, answer = 400, {"error_code": -2, "error_message": "JSON body expected"}
                else:
                    status, answer = fake.handle(
                        call, body, self.headers.get("Authorization") or ""
                    )
                with fake.lock:
                    fake.calls.append(Call(call, body or {}, status, answer))
                self._send(status, answer)
                hold, fake._current.hold = getattr(fake._current, "hold", None), None
                if hold is not None:
                    hold.finished.set()

        return Handler

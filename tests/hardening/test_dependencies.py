"""Dependencies failing: Kakao Login, Kakao Pay and the database.

Kakao Login and Kakao Pay are the local fake servers of the accounts and payments tests
(real HTTP on 127.0.0.1). A "slow" Kakao holds its answer until the test releases it, and
our client is given a short time-out only for the request that must give up (a generous one
everywhere else): the client always gives up first, and every other call succeeds, however
busy the machine. Each failure mode is tried at each step of the payment journey:
the API answers a clear 4xx/5xx with `{"detail": ...}`, and once Kakao Pay is back,
`reconcile_payments` (and the app's own retry) finish every payment in a state that agrees
with Kakao Pay's books: captured money is credited or refunded, exactly once.

The database going away is Django's own hook (`connection.execute_wrapper`) raising the
error a lost connection raises, and a real process pointed at a PostgreSQL port nobody
listens on: 503 JSON with Retry-After, never a traceback page.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account
from accounts.tests import kakao_server
from fundings.models import Contribution, Funding
from payments.models import Payment, PaymentState
from payments.tests.fixtures import CID, GIVE_UP_SECONDS, SECRET_KEY, buyer_pays, ready
from payments.tests.kakaopay_server import FakeKakaoPay, Hold
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

# Our client's time-out for calls that must succeed: a busy machine never reaches it.
GENEROUS = 10.0


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def assert_error(response, *statuses: int) -> None:
    assert response.status_code in statuses, response.content
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)


# --- Kakao Login --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        kakao_server.SERVER_ERROR_TOKEN,
        kakao_server.MALFORMED_TOKEN,
        kakao_server.SLOW_TOKEN,
        kakao_server.FORBIDDEN_TOKEN,
        kakao_server.NO_ID_TOKEN,
        kakao_server.FLOAT_ID_TOKEN,
    ],
    ids=["500", "malformed-json", "slow", "403", "no-id", "float-id"],
)
def test_kakao_login_failing_is_a_400_and_creates_nothing(db, kakao, settings, token):
    slow = token == kakao_server.SLOW_TOKEN
    # Kakao holds the slow answer: our client gives up after its (short) time-out.
    settings.KAKAO_TIMEOUT_SECONDS = GIVE_UP_SECONDS if slow else GENEROUS
    response = APIClient().post("/account/kakaologin", {"accessToken": token})
    assert_error(response, 400)
    assert not Account.objects.exists()
    if slow:
        assert kakao.slow_call_arrived.wait(30)
        assert not kakao.release.is_set()  # answered while Kakao still held its answer


def test_kakao_login_unreachable_is_a_400(db, kakao_unreachable):
    response = APIClient().post("/account/kakaologin", {"accessToken": kakao_server.GOOD_TOKEN})
    assert_error(response, 400)
    assert not Account.objects.exists()


# --- Kakao Pay ----------------------------------------------------------------------------------


class GarbledAnswer(dict):
    """An answer the fake sends as broken JSON (cut in the middle)."""


class FlakyKakaoPay(FakeKakaoPay):
    """The payments tests' fake Kakao Pay, which can also answer malformed JSON: the call is
    carried out, and its answer arrives cut short (`garble(call)`)."""

    def __init__(self, *args, **kwargs):
        self.garbled: dict[str, int] = {}
        super().__init__(*args, **kwargs)
        # A short poll interval: stopping the server at teardown takes 20 ms, not 500.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def garble(self, call: str, times: int = 1) -> None:
        with self.lock:
            self.garbled[call] = self.garbled.get(call, 0) + times

    def handle(self, call, body, authorization):
        status, answer = super().handle(call, body, authorization)
        with self.lock:
            if status == 200 and self.garbled.get(call):
                self.garbled[call] -= 1
                return status, GarbledAnswer(answer)
        return status, answer

    def _handler(self):
        base = super()._handler()

        class Handler(base):
            def _send(self, status, payload=None, location=""):
                if not isinstance(payload, GarbledAnswer):
                    return super()._send(status, payload, location)
                data = json.dumps(payload).encode()[:25]
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None

        return Handler


@pytest.fixture
def kakaopay(settings):
    """A local Kakao Pay (the payments tests' fake, able to garble answers), and a generous
    time-out (an Outage shortens it for the request that must give up)."""
    server = FlakyKakaoPay(secret_key=SECRET_KEY, cid=CID).start()
    settings.PAYMENT_PROVIDER = "kakaopay"
    settings.KAKAOPAY_API_BASE_URL = server.base_url
    settings.KAKAOPAY_SECRET_KEY = SECRET_KEY
    settings.KAKAOPAY_CID = CID
    settings.KAKAOPAY_TIMEOUT_SECONDS = GENEROUS
    yield server
    server.stop()


# How a call to Kakao Pay fails. "after": Kakao carried the call out, only its answer is lost.
MODES = ["unreachable", "slow", "500", "500-after", "malformed-after"]


class Outage:
    """Makes the next call(s) of `call` fail in `mode`; `heal()` brings Kakao Pay back.

    "slow": Kakao Pay holds the call before doing it (still working), and our client gets a
    short time-out until `heal()`, which releases the call: Kakao Pay then does the work.
    """

    def __init__(self, kakaopay: FlakyKakaoPay, settings, mode: str, call: str, times: int = 1):
        self.kakaopay, self.settings, self.mode, self.call = kakaopay, settings, mode, call
        self.held: list[Hold] = []
        if mode == "unreachable":
            settings.KAKAOPAY_API_BASE_URL = closed_port_url()
        elif mode == "slow":
            self.held = [kakaopay.hold(call, after=False) for _ in range(times)]
            settings.KAKAOPAY_TIMEOUT_SECONDS = GIVE_UP_SECONDS
        elif mode == "500":
            kakaopay.fail(call, status=500, times=times)
        elif mode == "500-after":
            kakaopay.fail(call, status=500, after=True, times=times)
        elif mode == "malformed-after":
            kakaopay.garble(call, times=times)

    @property
    def carried_out(self) -> bool:
        """Whether Kakao did what it was asked, although we never learned it."""
        return self.mode in ("slow", "500-after", "malformed-after")

    def heal(self) -> None:
        self.settings.KAKAOPAY_API_BASE_URL = self.kakaopay.base_url
        self.settings.KAKAOPAY_TIMEOUT_SECONDS = GENEROUS
        with self.kakaopay.lock:
            self.kakaopay.failures.clear()
            self.kakaopay.garbled.clear()
        for held in self.held:
            # Kakao Pay finishes the slow call now; its books are final before we go on.
            held.release()
            assert held.wait_arrived(), f"Kakao Pay never received the held /{self.call}"
            assert held.wait_finished(), f"Kakao Pay did not finish the held /{self.call}"


def actions(kakaopay: FlakyKakaoPay, kind: str) -> int:
    """How many times Kakao Pay moved money (PAYMENT or CANCEL), over all orders."""
    return sum(
        action["payment_action_type"] == kind
        for order in kakaopay.orders.values()
        for action in order.actions
    )


def reconcile() -> str:
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    return out.getvalue()


def age(payment: Payment, kakaopay: FlakyKakaoPay, minutes: float) -> None:
    """Pretend the payment started `minutes` ago, at Kakao Pay and in our books."""
    Payment.objects.filter(pk=payment.pk).update(
        created_on=payment.created_on - timedelta(minutes=minutes)
    )
    if payment.tid in kakaopay.orders:
        kakaopay.age(payment.tid, minutes)


def assert_books_agree(kakaopay: FlakyKakaoPay) -> None:
    """Every payment is in a final state, and that state is Kakao Pay's too."""
    for payment in Payment.objects.all():
        order = kakaopay.orders.get(payment.tid) if payment.tid else None
        if payment.state == PaymentState.CREDITED:
            assert order.status == "SUCCESS_PAYMENT"
            assert Contribution.objects.filter(payment=payment).exists()
        elif payment.state == PaymentState.REFUNDED:
            assert order.status == "CANCEL_PAYMENT"
            assert order.canceled_amount == payment.amount  # given back once, in full
        elif payment.state in (PaymentState.FAILED, PaymentState.EXPIRED):
            assert order is None or order.status not in ("SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT")
        else:
            pytest.fail(f"payment {payment.pk} left {payment.state}")
    for funding in Funding.objects.all():
        credited = sum(
            c.amount for c in Contribution.objects.filter(funding=funding, refunded_on__isnull=True)
        )
        assert funding.current_amount == credited


@pytest.fixture
def payer(db):
    return client_for(AccountFactory())


@pytest.mark.parametrize("mode", MODES)
def test_ready_failing_is_a_502_and_nothing_stays_open(kakaopay, settings, payer, mode):
    outage = Outage(kakaopay, settings, mode, "ready")
    response = payer.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert_error(response, 502)
    outage.heal()
    assert Payment.objects.get().state == PaymentState.FAILED
    # The app simply starts again, and pays.
    assert ready(payer, 10_000)["tid"]
    reconcile()
    payment = Payment.objects.get(state=PaymentState.READY)
    age(payment, kakaopay, 16)  # the buyer never paid: the tid lapses
    reconcile()
    assert_books_agree(kakaopay)


def approve_with(payer, kakaopay, settings, mode: str, *, order_too: bool = False):
    started = ready(payer, 10_000)
    token = buyer_pays(started["url"])
    assert payer.post("/remit/kakaopay/approve", {"pg_token": token}).status_code == 200
    outage = Outage(kakaopay, settings, mode, "approve")
    if order_too and mode != "unreachable":
        kakaopay.fail("order", status=500)
    return outage, payer.get("/remit/kakaopay/approve")


@pytest.mark.parametrize("mode", MODES)
def test_approve_failing_is_settled_by_the_apps_retry(kakaopay, settings, payer, mode):
    funding = FundingFactory(goal_amount=50_000)
    outage, response = approve_with(payer, kakaopay, settings, mode)
    if outage.carried_out and mode != "slow":
        # Kakao captured the money and said so to /order at once: approved.
        assert response.status_code == 200, response.content
    else:
        assert_error(response, 502)
        assert Payment.objects.get().state == PaymentState.READY
    outage.heal()
    assert payer.get("/remit/kakaopay/approve").status_code == 200
    credited = payer.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "hi"}, format="json"
    )
    assert credited.status_code == 201
    reconcile()
    assert_books_agree(kakaopay)
    # Charged once, whatever happened on the way.
    assert actions(kakaopay, "PAYMENT") == 1


@pytest.mark.parametrize("mode", MODES)
def test_approve_failing_with_no_retry_is_finished_by_reconciliation(
    kakaopay, settings, payer, mode
):
    outage, response = approve_with(payer, kakaopay, settings, mode, order_too=True)
    assert_error(response, 502)
    outage.heal()
    payment = Payment.objects.get()
    assert payment.state == PaymentState.READY
    reconcile()  # asks /order: captured ones are approved, the others wait
    # The app never comes back: past the tid's validity, captured money goes back and the
    # rest expires.
    payment.refresh_from_db()
    age(payment, kakaopay, 16)
    Payment.objects.filter(state=PaymentState.APPROVED).update(
        approved_on=timezone.now() - timedelta(minutes=10)
    )
    reconcile()
    reconcile()
    payment.refresh_from_db()
    expected = PaymentState.REFUNDED if outage.carried_out else PaymentState.EXPIRED
    assert payment.state == expected
    assert_books_agree(kakaopay)


@pytest.mark.parametrize("mode", MODES)
def test_cancel_failing_on_a_refused_remit_is_finished_by_reconciliation(
    kakaopay, settings, payer, mode
):
    funding = FundingFactory(goal_amount=5_000)
    started = ready(payer, 10_000)
    token = buyer_pays(started["url"])
    payer.post("/remit/kakaopay/approve", {"pg_token": token})
    assert payer.get("/remit/kakaopay/approve").status_code == 200

    outage = Outage(kakaopay, settings, mode, "cancel")
    # The funding needs only 5,000: the payment must go back.
    response = payer.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "hi"}, format="json"
    )
    assert_error(response, 409)
    assert not Contribution.objects.exists()
    payment = Payment.objects.get()
    assert payment.state == PaymentState.REFUNDING
    outage.heal()
    assert "errors 0" in reconcile()
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert_books_agree(kakaopay)
    # Never given back twice (the time-out and "after" cases were refunded at Kakao once).
    assert actions(kakaopay, "CANCEL") == 1


@pytest.mark.parametrize("mode", MODES)
def test_order_failing_during_reconciliation_is_retried_next_run(kakaopay, settings, payer, mode):
    # Kakao captured the money but neither approve nor order told us so.
    _, response = approve_with(payer, kakaopay, settings, "500-after", order_too=True)
    assert_error(response, 502)
    payment = Payment.objects.get()
    assert payment.needs_check

    outage = Outage(kakaopay, settings, mode, "order")
    report = reconcile()
    assert "errors 1" in report or mode in ("500-after", "malformed-after", "slow"), report
    payment.refresh_from_db()
    if payment.state == PaymentState.READY:
        assert payment.needs_check  # nothing decided on a failed question
    outage.heal()
    reconcile()
    payment.refresh_from_db()
    assert payment.state == PaymentState.APPROVED
    # Nobody credits it: after the grace period it goes back.
    Payment.objects.filter(pk=payment.pk).update(approved_on=timezone.now() - timedelta(minutes=10))
    reconcile()
    assert_books_agree(kakaopay)


# --- the database -------------------------------------------------------------------------------


def database_gone(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [
        ("/funding/public", False),
        ("/funding/following", True),
        ("/account/search?username=a", True),
    ],
)
def test_database_gone_is_a_503_json(db, path, signed_in):
    client = client_for(AccountFactory()) if signed_in else APIClient()
    with connection.execute_wrapper(database_gone):
        response = client.get(path)
    assert_error(response, 503)
    assert response["Retry-After"] == "5"


def test_database_gone_in_the_admin_is_a_503_json(db, client):
    client.force_login(AccountFactory(is_staff=True, is_superuser=True))
    with connection.execute_wrapper(database_gone):
        response = client.get("/admin/fundings/funding/")
    assert_error(response, 503)


def test_readiness_check_reports_the_database(db, client):
    assert client.get("/healthz?ready=1").json() == {"status": "ready"}
    with connection.execute_wrapper(database_gone):
        response = client.get("/healthz?ready=1")
    assert response.status_code == 503
    assert response.json() == {"status": "database unavailable"}
    # Liveness does not need the database.
    with connection.execute_wrapper(database_gone):
        assert client.get("/healthz").status_code == 200


def test_database_lost_right_after_kakao_captured_loses_no_money(kakaopay, settings, payer):
    """The approve reached Kakao, then our write failed: 503; the app's retry settles it."""
    funding = FundingFactory(goal_amount=50_000)
    started = ready(payer, 10_000)
    token = buyer_pays(started["url"])
    payer.post("/remit/kakaopay/approve", {"pg_token": token})

    def lose_payment_updates(execute, sql, params, many, context):
        if sql.startswith('UPDATE "payments_payment"'):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(lose_payment_updates):
        response = payer.get("/remit/kakaopay/approve")
    assert_error(response, 503)
    assert kakaopay.orders[started["tid"]].status == "SUCCESS_PAYMENT"
    assert payer.get("/remit/kakaopay/approve").status_code == 200
    credited = payer.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "hi"}, format="json"
    )
    assert credited.status_code == 201
    assert_books_agree(kakaopay)


OTHER_PROCESS = """
import django
from django.test.utils import setup_test_environment
django.setup()
setup_test_environment()
from django.test import Client
response = Client().get("/funding/public")
print(response.status_code, response["Content-Type"], response.content.decode(), sep="|")
"""


def test_a_server_whose_postgresql_is_gone_answers_503_json(settings):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "funsun.settings",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-not-secret-" + "x" * 40,
        "DATABASE_URL": f"postgres://postgres@{closed_port_url().split('//')[1]}/funsun",
        "SECURE_SSL_REDIRECT": "false",
        "ENV_FILE": os.devnull,
    }
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    status, content_type, body = done.stdout.strip().split("|", 2)
    assert status == "503"
    assert content_type.startswith("application/json")
    assert isinstance(json.loads(body)["detail"], str)
    assert "Traceback" not in done.stdout

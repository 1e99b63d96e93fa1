"""Deleting an account cannot strand money: the way it used to break, tried for real.

The deactivation and the cancellation of the author's fundings (contributions taken back,
payments `refunding`) are one transaction; the refunds go out afterwards as jobs. Tested
with the app in a real gunicorn and the jobs in real consumers (`manage.py run_huey`),
Kakao Pay being the local fake:

- the deactivation is stopped at each point of its transaction by a row lock this test
  holds in another connection (PostgreSQL: `SELECT ... FOR UPDATE` on a funding, on one of
  its payments, on the author's or a friend's account), and the worker is killed there
  (`kill -9`): nothing changed, the author can still sign in and the money stays;
- after the commit, with Kakao Pay holding its answer to the first refund, the consumer
  making it is killed: the remaining jobs (a new consumer) and reconciliation (once the
  dead consumer's lease lapses) finish every refund, exactly once, as Kakao Pay's books say;
- a stranded state from before (an inactive author, an open funding holding credited money)
  is cancelled and refunded by the repair job.

On SQLite, fundings/tests/test_cancel_jobs.py shows the same atomicity with an error
raised inside the transaction at each funding.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from io import StringIO
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Account, Follow
from fundings import tasks as fundings_tasks
from fundings.models import Contribution, Funding, FundingState
from fundings.tests.test_cancel_jobs import kakao_contribution
from payments.models import Payment, PaymentEvent, PaymentState
from payments.tests.fixtures import CID, SECRET_KEY
from payments.tests.kakaopay_server import FakeKakaoPay
from tests.deploy.conftest import Service, app_env, gunicorn
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 60.0  # bound of every wait for another process; the tests never sleep a fixed time


def dsn() -> str:
    db = connection.settings_dict
    return (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} "
        f"user={db['USER']} dbname={db['NAME']}"
        + (f" password={db['PASSWORD']}" if db.get("PASSWORD") else "")
    )


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def fake() -> FakeKakaoPay:
    server = FakeKakaoPay(secret_key=SECRET_KEY, cid=CID).start()
    yield server
    server.stop()


@pytest.fixture
def kakaopay(fake, settings) -> FakeKakaoPay:
    """The module's fake, empty, with this process configured to use it too."""
    with fake.lock:
        fake.orders.clear()
        fake.calls.clear()
        fake.failures.clear()
        fake.holds.clear()
    settings.PAYMENT_PROVIDER = "kakaopay"
    settings.KAKAOPAY_API_BASE_URL = fake.base_url
    settings.KAKAOPAY_SECRET_KEY = SECRET_KEY
    settings.KAKAOPAY_CID = CID
    settings.KAKAOPAY_TIMEOUT_SECONDS = 10.0
    return fake


@pytest.fixture(scope="module")
def app_environment(django_db_setup, django_db_blocker, fake, tmp_path_factory) -> dict:
    """The app's processes: this test database, the fake Kakao Pay, a queue of their own."""
    folder = tmp_path_factory.mktemp("account-deletion")
    with django_db_blocker.unblock():
        url = database_url()
    return app_env(
        DATABASE_URL=url,
        SECRET_KEY=django_settings.SECRET_KEY,  # tokens minted here are valid there
        PAYMENT_PROVIDER="kakaopay",
        KAKAOPAY_API_BASE_URL=fake.base_url,
        KAKAOPAY_SECRET_KEY=SECRET_KEY,
        KAKAOPAY_CID=CID,
        JOBS_BACKEND="sqlite",
        JOBS_SQLITE_PATH=folder / "jobs.sqlite3",
        JOBS_WORKERS="1",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="1",
        MEDIA_ROOT=folder / "media",
        LOG_LEVEL="INFO",
    ) | {"_folder": str(folder)}


@pytest.fixture(scope="module")
def server(app_environment):
    env = {k: v for k, v in app_environment.items() if not k.startswith("_")}
    service = gunicorn("gunicorn", Path(app_environment["_folder"]), env)
    service.start()
    service.wait_ready(f"{service.base_url}/healthz")
    yield service
    service.stop()


def consumer(app_environment, name: str) -> Service:
    env = {k: v for k, v in app_environment.items() if not k.startswith("_")}
    folder = Path(app_environment["_folder"])
    return Service(
        name=name,
        argv=[sys.executable, "manage.py", "run_huey", "--flush-locks"],
        env=env,
        log_path=folder / f"{name}.log",
    ).start()


def worker_pid(server: Service) -> int:
    """gunicorn's one worker (it starts a new one when this one dies)."""

    def child():
        done = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(server.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        )
        pids = [int(p) for p in done.stdout.split()]
        return pids[0] if len(pids) == 1 else None

    return wait_until("gunicorn's worker", child)


def a_world(kakaopay) -> dict:
    """An author with a friend and three fundings, two Kakao Pay contributions in each."""
    author = AccountFactory()
    friend = AccountFactory()
    FollowFactory(follower=author, followee=friend)
    FollowFactory(follower=friend, followee=author)
    Account.objects.filter(pk__in=[author.pk, friend.pk]).update(follower_count=1, followee_count=1)
    fundings = [FundingFactory(author=author, goal_amount=50_000) for _ in range(3)]
    given = [kakao_contribution(kakaopay, f, 2_000) for f in fundings for _ in range(2)]
    return {"author": author, "friend": friend, "fundings": fundings, "given": given}


def books() -> dict:
    """Everything a deactivation changes, as it stands."""
    return {
        "accounts": sorted(
            Account.objects.values_list(
                "pk", "is_active", "email", "username", "follower_count", "followee_count"
            )
        ),
        "follows": sorted(Follow.objects.values_list("follower_id", "followee_id")),
        "fundings": sorted(Funding.objects.values_list("pk", "state", "current_amount")),
        "contributions": sorted(Contribution.objects.values_list("pk", "refunded_on")),
        "payments": sorted(Payment.objects.values_list("pk", "state", "claimed_until")),
        "events": PaymentEvent.objects.count(),
    }


def blocked_backend(database: str, locker_pid: int) -> int | None:
    with psycopg.connect(dsn(), autocommit=True) as probe:
        row = probe.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
            "AND pid <> %s AND pid <> pg_backend_pid()",
            [database, locker_pid],
        ).fetchone()
    return row[0] if row else None


def backend_gone(pid: int) -> bool:
    with psycopg.connect(dsn(), autocommit=True) as probe:
        return (
            probe.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is None
        )


def token_of(account: Account) -> str:
    return str(RefreshToken.for_user(account).access_token)


def delete_account(server: Service, token: str, outcome: dict) -> None:
    try:
        outcome["response"] = httpx.delete(
            f"{server.base_url}/account/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=WAIT,
        )
    except httpx.HTTPError as exc:
        outcome["error"] = exc


LOCK_POINTS = {
    # before anything is written
    "first funding": lambda w: ("fundings_funding", w["fundings"][0].pk),
    # the first funding canceled, in the transaction
    "second funding": lambda w: ("fundings_funding", w["fundings"][1].pk),
    # half of the second funding: contributions marked, one payment `refunding`
    "a payment of the second funding": lambda w: ("payments_payment", w["given"][3].payment_id),
    # every funding canceled, the account not yet touched
    "the author's account": lambda w: ("accounts_account", w["author"].pk),
    # follows locked, the friend's counters next
    "a friend's account": lambda w: ("accounts_account", w["friend"].pk),
}


@pytest.mark.parametrize("point", list(LOCK_POINTS))
def test_a_worker_killed_anywhere_inside_the_deactivation_changes_nothing(kakaopay, server, point):
    world = a_world(kakaopay)
    table, pk = LOCK_POINTS[point](world)
    token = token_of(world["author"])  # minted first: it writes a row naming the account
    before = books()
    victim = worker_pid(server)
    outcome: dict = {}
    database = connection.settings_dict["NAME"]
    with psycopg.connect(dsn()) as locker:
        locker.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])
        locker_pid = locker.info.backend_pid
        request = threading.Thread(target=delete_account, args=(server, token, outcome))
        request.start()
        # The deactivation's transaction now waits on our lock, at that point.
        backend = wait_until(
            "the deactivation to wait", lambda: blocked_backend(database, locker_pid)
        )
        os.kill(victim, signal.SIGKILL)
        request.join(WAIT)
        assert "error" in outcome, outcome  # no answer: the worker died mid-request
        locker.rollback()
    # Its backend gets our lock, finds its client gone and rolls the transaction back.
    wait_until("the killed worker's transaction to end", lambda: backend_gone(backend))
    assert books() == before
    assert kakaopay.calls_of("cancel") == []
    # The author is still whole: they sign in and delete their account for real.
    server.wait_ready(f"{server.base_url}/healthz")
    outcome = {}
    delete_account(server, token, outcome)
    assert outcome["response"].status_code == 200, outcome
    assert not Account.objects.get(pk=world["author"].pk).is_active
    assert set(Funding.objects.values_list("state", flat=True)) == {FundingState.CANCELED}


def test_a_consumer_killed_mid_refund_loses_no_refund_and_makes_none_twice(
    kakaopay, server, app_environment
):
    world = a_world(kakaopay)
    payments = [g.payment_id for g in world["given"]]
    first = consumer(app_environment, "jobs-1")
    try:
        # Kakao Pay carries out the first refund it is asked for, and holds its answer.
        held = kakaopay.hold("cancel", after=True)
        outcome: dict = {}
        delete_account(server, token_of(world["author"]), outcome)
        # Answered while that refund's answer is still held: the request waits for none.
        assert outcome["response"].status_code == 200, outcome
        assert not held.finished.is_set()
        assert held.wait_arrived(WAIT), first.log_tail()
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(WAIT)
    finally:
        first.stop()
    held.release()
    assert held.wait_finished(WAIT)
    # The decision committed whole before any refund.
    assert not Account.objects.get(pk=world["author"].pk).is_active
    assert not Contribution.objects.filter(refunded_on__isnull=True).exists()

    # A new consumer runs the jobs still queued; the one killed mid-call was lost with it.
    second = consumer(app_environment, "jobs-2")
    try:
        in_flight = wait_until(
            "the queued refunds",
            lambda: (
                list(Payment.objects.filter(state=PaymentState.REFUNDING))
                if Payment.objects.filter(state=PaymentState.REFUNDED).count() == len(payments) - 1
                else None
            ),
        )
    finally:
        second.stop()
    (killed,) = in_flight
    assert killed.claimed_until > timezone.now()  # the dead consumer's lease
    # Its lease lapses (we move it rather than wait PAYMENT_CLAIM_SECONDS); reconciliation
    # asks Kakao Pay, which did refund it, and records that without refunding again.
    Payment.objects.filter(pk=killed.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "refunds_finished 1" in out.getvalue()

    assert set(Payment.objects.filter(pk__in=payments).values_list("state", flat=True)) == {
        PaymentState.REFUNDED
    }
    tids = dict(Payment.objects.filter(pk__in=payments).values_list("tid", "pk"))
    made = Counter(call.body["tid"] for call in kakaopay.calls_of("cancel", ok=True))
    assert made == Counter(tids.keys())  # one refund per payment at Kakao Pay
    for tid in tids:
        assert kakaopay.orders[tid].canceled_amount == 2_000
    recorded = Counter(
        PaymentEvent.objects.filter(
            payment_id__in=payments, kind__in=["refunded", "refunded_per_order"]
        ).values_list("payment_id", flat=True)
    )
    assert recorded == Counter(payments)
    assert PaymentEvent.objects.get(payment=killed, kind="refunded_per_order")


def test_a_stranded_funding_of_a_deactivated_author_is_repaired(kakaopay):
    author = AccountFactory()
    funding = FundingFactory(author=author, goal_amount=50_000)
    given = [kakao_contribution(kakaopay, funding, 3_000) for _ in range(2)]
    Account.objects.filter(pk=author.pk).update(is_active=False)  # the old, broken outcome
    fundings_tasks.cancel_stranded_fundings.call_local()  # its jobs run as it commits
    funding.refresh_from_db()
    assert funding.state == FundingState.CANCELED and funding.current_amount == 0
    payments = Payment.objects.filter(pk__in=[g.payment_id for g in given])
    assert set(payments.values_list("state", flat=True)) == {PaymentState.REFUNDED}
    assert Counter(c.body["tid"] for c in kakaopay.calls_of("cancel", ok=True)) == Counter(
        payments.values_list("tid", flat=True)
    )

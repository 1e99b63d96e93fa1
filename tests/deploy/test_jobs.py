"""Background jobs scaled out: two consumers (`manage.py run_huey`, as funsun-jobs.service
runs it) on one PostgreSQL and one Redis queue, behind an app server, against the local
fake Kakao Pay.

An author cancels a funding with N contributions: the app answers, N refund jobs go to the
Redis queue, and both consumers take some. Kakao Pay holds the first refund it receives
until the test releases it, so the consumer making it is busy and the other one must take
the rest. Every job runs exactly once and every payment is refunded exactly once: Kakao
Pay's books, our event rows and the consumers' logs agree.

The database is this test's own (created and dropped here); the queue's keys carry a name
of this run alone in Redis database 13 (FUNSUN_DEPLOY_REDIS), and only they are removed.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from payments.tests.kakaopay_server import FakeKakaoPay
from tests.deploy.conftest import (
    REDIS_BASE_URL,
    Service,
    app_env,
    bearer,
    funding_form,
    run,
    scratch_database,
    scratch_redis_keys,
    signup,
    start_gunicorn,
)
from tests.helpers import wait_until

pytestmark = pytest.mark.multiserver

N = 12
KAKAOPAY_KEY = "deploy-test-kakaopay-key"
CID = "TC0ONETIME"
WAIT = 60.0


@pytest.fixture(scope="module")
def database_url():
    with scratch_database("funsun_jobs") as url:
        yield url


@pytest.fixture(scope="module")
def queue_name():
    name = f"funsunjobstest{uuid.uuid4().hex[:12]}"
    with scratch_redis_keys(name, f"huey.*{name}*"):
        yield name


@pytest.fixture(scope="module")
def kakaopay():
    server = FakeKakaoPay(secret_key=KAKAOPAY_KEY, cid=CID).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(processes, static_root, database_url, queue_name, kakaopay, tmp_path_factory):
    folder = tmp_path_factory.mktemp("jobs")
    env = app_env(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_BASE_URL,
        CACHE_KEY_PREFIX=queue_name,
        JOBS_QUEUE=queue_name,
        JOBS_WORKERS="1",
        STATIC_ROOT=static_root,
        MEDIA_ROOT=folder / "media",
        PAYMENT_PROVIDER="kakaopay",
        KAKAOPAY_API_BASE_URL=kakaopay.base_url,
        KAKAOPAY_SECRET_KEY=KAKAOPAY_KEY,
        KAKAOPAY_CID=CID,
        # The held refund waits for the test, never for a time-out.
        KAKAOPAY_TIMEOUT_SECONDS="120",
        LOG_LEVEL="INFO",
    )
    run([sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"], env)
    app = start_gunicorn(processes, "gunicorn", folder / "app", env)
    consumers = [
        processes(
            Service(
                name=f"jobs-{label}",
                argv=[sys.executable, "manage.py", "run_huey", "--flush-locks"],
                env=env,
                log_path=folder / f"jobs-{label}.log",
            )
        )
        for label in ("a", "b")
    ]
    for consumer in consumers:
        wait_until(
            f"{consumer.name} to start",
            lambda c=consumer: "Huey consumer started" in c.log_tail(200) or c.process.poll(),
        )
        assert consumer.running, consumer.log_tail()
    return app, consumers


def contribute(client: httpx.Client, kakaopay_client: httpx.Client, funding_id: int) -> None:
    """The app's whole journey with Kakao Pay: ready, the buyer pays, approve, credit."""
    payer = bearer(signup(client, "", "payer"))
    ready = client.post("/remit/kakaopay/ready", data={"amount": "1000"}, headers=payer)
    assert ready.status_code == 200, ready.text
    paid = kakaopay_client.get(ready.json()["url"], follow_redirects=False)
    assert paid.status_code == 302, paid.text
    pg_token = parse_qs(urlsplit(paid.headers["location"]).query)["pg_token"][0]
    stored = client.post("/remit/kakaopay/approve", data={"pg_token": pg_token}, headers=payer)
    assert stored.status_code == 200, stored.text
    approved = client.get("/remit/kakaopay/approve", headers=payer)
    assert approved.status_code == 200, approved.text
    credited = client.post(
        "/remit/", json={"funding": funding_id, "amount": 1000, "message": "hi"}, headers=payer
    )
    assert credited.status_code == 201, credited.text


def payments_by_state(database_url: str) -> Counter:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as db:
        return Counter(state for (state,) in db.execute("SELECT state FROM payments_payment"))


def executed(consumer: Service) -> int:
    text = Path(consumer.log_path).read_text(errors="replace")
    return len(re.findall(r"Executing payments\.tasks\.refund_payment", text))


def test_two_consumers_share_the_refunds_and_run_each_once(stack, kakaopay, database_url):
    import psycopg

    app, consumers = stack
    with (
        httpx.Client(base_url=app.base_url, timeout=WAIT) as client,
        httpx.Client(timeout=WAIT) as kakaopay_client,
    ):
        author = bearer(signup(client, "", "author"))
        created = client.post("/funding/", data=funding_form("Refunded gift"), headers=author)
        assert created.status_code == 201, created.text
        funding_id = created.json()["id"]
        for _ in range(N):
            contribute(client, kakaopay_client, funding_id)
        assert payments_by_state(database_url) == Counter({"credited": N})

        held = kakaopay.hold("cancel", after=False)
        canceled = client.request(
            "DELETE",
            "/funding/",
            content=f"id={funding_id}",
            headers={**author, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert canceled.status_code == 200, canceled.text
        assert canceled.json() == {"detail": "canceled"}

    # One consumer is inside the held refund; the other takes every other job meanwhile.
    assert held.wait_arrived(WAIT)
    wait_until(
        "the other consumer to refund the rest",
        lambda: payments_by_state(database_url) == Counter(refunded=N - 1, refunding=1),
    )
    held.release()
    wait_until("every refund", lambda: payments_by_state(database_url) == Counter(refunded=N))

    # Kakao Pay refunded each payment once; our books say so once per payment.
    with psycopg.connect(database_url, autocommit=True) as db:
        tids = [tid for (tid,) in db.execute("SELECT tid FROM payments_payment")]
        events = Counter(
            payment_id
            for (payment_id,) in db.execute(
                "SELECT payment_id FROM payments_paymentevent "
                "WHERE kind IN ('refunded', 'refunded_per_order')"
            )
        )
        failed = db.execute("SELECT count(*) FROM jobs_failedjob").fetchone()[0]
    done = Counter(call.body["tid"] for call in kakaopay.calls_of("cancel", ok=True))
    assert done == Counter(tids)
    assert len(kakaopay.calls_of("cancel")) == N  # no refused or repeated call either
    assert sorted(events.values()) == [1] * N
    assert failed == 0
    # Both consumers took work, and the jobs ran N times in all: once each.
    counts = [executed(consumer) for consumer in consumers]
    assert all(count >= 1 for count in counts), counts
    assert sum(counts) == N, counts

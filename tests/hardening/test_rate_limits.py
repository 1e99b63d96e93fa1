"""Abuse limits: sign-in, sign-up, Kakao login, payment ready and reports, per account (or
per email) and per client address, with the production rates of funsun/settings.py.

Over the limit: 429, `{"detail": ...}` and a `Retry-After` in whole seconds. The counters
live in Django's cache (funsun/api/throttles.py): with REDIS_URL every app server shares
them, which the last test shows with a second process. The root conftest clears the cache
around every test, so no test inherits another's counters.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.tests import kakao_server
from tests.factories import DEFAULT_PASSWORD, AccountFactory, FundingFactory
from tests.helpers import client_for

RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


def limit(scope: str) -> int:
    return int(RATES[scope].split("/")[0])


def from_ip(client: APIClient, ip: str) -> APIClient:
    client.defaults["REMOTE_ADDR"] = ip
    return client


def assert_throttled(response, period_seconds: int) -> None:
    assert response.status_code == 429, response.content
    assert isinstance(response.json()["detail"], str)
    assert 1 <= int(response["Retry-After"]) <= period_seconds


def test_production_rates():
    """The rates the service runs with (THROTTLE_RATES may adjust them per deployment)."""
    assert {
        "login_ip": "10/minute",
        "login_email_ip": "5/minute",
        "login_email": "50/hour",
        "signup_ip": "5/hour",
        "kakaologin_ip": "30/minute",
        "payment_ready": "30/minute",
        "payment_ready_ip": "60/minute",
        "report": "20/hour",
        "report_ip": "60/hour",
    }.items() <= RATES.items()


# --- sign-in ----------------------------------------------------------------------------------


def login(client: APIClient, email: str, password: str = "wrong-guess"):
    return client.post("/account/login", {"email": email, "password": password})


def test_password_guessing_from_one_address_is_limited(db):
    client = from_ip(APIClient(), "203.0.113.1")
    n = limit("login_ip")
    for i in range(n):
        assert login(client, f"victim{i}@example.com").status_code == 401
    assert_throttled(login(client, "someone@example.com"), 60)
    # Another address is not affected.
    assert login(from_ip(APIClient(), "203.0.113.2"), "someone@example.com").status_code == 401


def test_wrong_passwords_from_strangers_do_not_lock_the_owner_out(db):
    """Ten wrong passwords for one email from ten addresses used to make the owner's right
    password answer 429 for a minute: anyone could lock anyone out."""
    AccountFactory(email="victim@example.com")
    for i in range(10):
        assert (
            login(from_ip(APIClient(), f"198.51.100.{i + 1}"), "victim@example.com").status_code
            == 401
        )
    # The owner, from an address that never signed in before.
    owner = from_ip(APIClient(), "192.0.2.44")
    assert login(owner, "victim@example.com", DEFAULT_PASSWORD).status_code == 200


def test_password_guessing_on_one_email_from_one_address_is_limited(db):
    AccountFactory(email="victim@example.com")
    guesser = from_ip(APIClient(), "203.0.113.3")
    for i in range(limit("login_email_ip")):
        # The email is read as sign-in reads it: case and spaces do not make a new one.
        assert login(guesser, f"  Victim@Example.com{' ' * i}").status_code == 401
    # Even the right password waits, from this address: the budget is of attempts.
    assert_throttled(login(guesser, "victim@example.com", DEFAULT_PASSWORD), 60)
    # Another email from the same address is fine, and so is the owner elsewhere.
    assert login(guesser, "other@example.com").status_code == 401
    owner = from_ip(APIClient(), "192.0.2.45")
    assert login(owner, "victim@example.com", DEFAULT_PASSWORD).status_code == 200


def test_password_guessing_on_one_email_from_many_addresses_is_limited_except_for_the_owner(db):
    """Guessing spread over many addresses meets the per-email limit; an address that signed
    in to the account before is not held back by it (nor counted)."""
    AccountFactory(email="victim@example.com")
    home = from_ip(APIClient(), "192.0.2.80")
    assert login(home, "victim@example.com", DEFAULT_PASSWORD).status_code == 200

    # That first sign-in came from an address not yet known: it counted.
    n = limit("login_email") - 1
    for i in range(n):
        address = f"198.51.{100 + i // 200}.{i % 200 + 1}"
        assert login(from_ip(APIClient(), address), "Victim@Example.com").status_code == 401
    # A new address waits, even with the right password; so does one that only failed.
    assert_throttled(
        login(from_ip(APIClient(), "192.0.2.81"), "victim@example.com", DEFAULT_PASSWORD), 3600
    )
    assert_throttled(
        login(from_ip(APIClient(), "198.51.100.1"), "victim@example.com", DEFAULT_PASSWORD), 3600
    )
    # The owner's address signs in, again and again.
    for _ in range(3):
        assert login(home, "victim@example.com", DEFAULT_PASSWORD).status_code == 200
    # Other emails from a fresh address are not affected.
    assert login(from_ip(APIClient(), "192.0.2.82"), "other@example.com").status_code == 401


def test_sign_up_is_limited_per_address(db):
    client = from_ip(APIClient(), "203.0.113.7")
    for i in range(limit("signup_ip")):
        response = client.post(
            "/account/signup",
            {"email": f"new{i}@example.com", "password": DEFAULT_PASSWORD, "username": f"n{i}"},
        )
        assert response.status_code == 201, response.content
    refused = client.post(
        "/account/signup",
        {"email": "one-more@example.com", "password": DEFAULT_PASSWORD, "username": "more"},
    )
    assert_throttled(refused, 3600)
    other = from_ip(APIClient(), "203.0.113.8").post(
        "/account/signup",
        {"email": "one-more@example.com", "password": DEFAULT_PASSWORD, "username": "more"},
    )
    assert other.status_code == 201


def test_kakao_login_is_limited_per_address(db, kakao):
    client = from_ip(APIClient(), "203.0.113.9")
    n = limit("kakaologin_ip")
    for _ in range(n):
        response = client.post("/account/kakaologin", {"accessToken": kakao_server.GOOD_TOKEN})
        assert response.status_code in (200, 201)
    asked = len(kakao.requests)
    assert_throttled(
        client.post("/account/kakaologin", {"accessToken": kakao_server.GOOD_TOKEN}), 60
    )
    # Refused before Kakao is asked: a flood is not relayed to Kakao.
    assert len(kakao.requests) == asked
    other = from_ip(APIClient(), "203.0.113.10")
    assert (
        other.post("/account/kakaologin", {"accessToken": kakao_server.GOOD_TOKEN}).status_code
        == 200
    )


# --- payments ---------------------------------------------------------------------------------


def ready(client: APIClient):
    return client.post("/remit/kakaopay/ready", {"amount": "1000"})


def test_payment_ready_is_limited_per_account_whatever_the_address(db, sandbox):
    account = AccountFactory()
    n = limit("payment_ready")
    for i in range(n):
        assert ready(from_ip(client_for(account), f"192.0.2.{i + 1}")).status_code == 200
    assert_throttled(ready(from_ip(client_for(account), "192.0.2.250")), 60)
    # Another account on the same address still pays.
    assert ready(from_ip(client_for(AccountFactory()), "192.0.2.250")).status_code == 200


def test_payment_ready_is_limited_per_address_across_accounts(db, sandbox):
    per_account, per_ip = limit("payment_ready"), limit("payment_ready_ip")
    accounts = [AccountFactory() for _ in range(per_ip // per_account + 1)]
    for i in range(per_ip):
        client = from_ip(client_for(accounts[i // per_account]), "192.0.2.77")
        assert ready(client).status_code == 200
    assert_throttled(ready(from_ip(client_for(accounts[-1]), "192.0.2.77")), 60)
    assert ready(from_ip(client_for(accounts[-1]), "192.0.2.78")).status_code == 200


# --- reports ----------------------------------------------------------------------------------


def report(client: APIClient, funding_id: int):
    return client.post(
        "/report/", {"type": "funding", "target": str(funding_id), "message": "spam"}, format="json"
    )


def test_reports_are_limited_per_account_and_per_address(db):
    per_account, per_ip = limit("report"), limit("report_ip")
    fundings = FundingFactory.create_batch(per_account + 1)
    first = AccountFactory()
    for funding in fundings[:per_account]:
        assert report(from_ip(client_for(first), "192.0.2.5"), funding.pk).status_code == 201
    # The account's limit holds from any address.
    assert_throttled(report(from_ip(client_for(first), "192.0.2.6"), fundings[-1].pk), 3600)

    # The address's limit adds up every account on it (the one above used 20 of it).
    others = [AccountFactory() for _ in range(per_ip // per_account)]
    statuses = [
        report(
            from_ip(client_for(others[i // per_account]), "192.0.2.5"), fundings[i % per_account].pk
        ).status_code
        for i in range(per_ip - per_account)
    ]
    assert set(statuses) == {201}
    assert_throttled(report(from_ip(client_for(others[-1]), "192.0.2.5"), fundings[-1].pk), 3600)


# --- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?username=", "?username=%20%20", "?page=2"])
def test_search_needs_at_least_one_character(auth_api, query):
    response = auth_api.get(f"/account/search{query}")
    assert response.status_code == 400
    assert "username" in response.json()


def test_search_pages_eight_at_a_time_and_treats_wildcards_literally(
    auth_api, django_assert_max_num_queries
):
    for i in range(10):
        AccountFactory(username=f"kim{i}")
    with django_assert_max_num_queries(3):
        first = auth_api.get("/account/search?username=KIM")
    second = auth_api.get("/account/search?username=kim&page=2")
    past = auth_api.get("/account/search?username=kim&page=3")
    assert len(first.json()) == 8
    assert len(second.json()) == 2
    assert past.status_code == 204 and past.content == b""
    # SQL wildcards are plain characters: they do not list everyone.
    assert auth_api.get("/account/search?username=%25").status_code == 204
    assert auth_api.get("/account/search?username=_").status_code == 204


# --- across processes -------------------------------------------------------------------------

REDIS_URL = os.environ.get("FUNSUN_TEST_REDIS", "redis://127.0.0.1:6379/14")

OTHER_PROCESS = """
import django
from django.test.utils import setup_test_environment
django.setup()
setup_test_environment()
from django.test import Client
response = Client(REMOTE_ADDR="203.0.113.99").post(
    "/account/login", {"email": "x@example.com", "password": "guess"}
)
print(response.status_code, response.get("Retry-After"))
"""


def test_limits_hold_across_processes_that_share_redis(db, settings):
    """Two app processes on one Redis share the counters: what one used, the other sees."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc.__class__.__name__})")
    prefix = f"funsun-hardening-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    client = from_ip(APIClient(), "203.0.113.99")
    for i in range(limit("login_ip")):
        assert login(client, f"x{i}@example.com").status_code == 401

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "funsun.test_settings",
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
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
    status, retry_after = done.stdout.split()[-2:]
    assert status == "429"
    assert 1 <= int(retry_after) <= 60


def test_an_operator_adjusts_rates_per_deployment(settings):
    """THROTTLE_RATES changes or lifts ("off") a rate without a release."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "funsun.settings",
        "ENV_FILE": os.devnull,
        "DEBUG": "false",
        "SECRET_KEY": "test-only-not-secret-" + "x" * 40,
        "THROTTLE_RATES": "login_ip=20/minute,payment_ready_ip=off",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "r = s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']; "
            "print(r['login_ip'], r['payment_ready_ip'], r['signup_ip'])",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["20/minute", "None", "5/hour"]


def test_a_request_without_an_address_is_limited_not_refused(db):
    """A server that passes no REMOTE_ADDR (some WSGI hosts) still gets an answer: the
    missing address is counted as one client."""
    client = APIClient(REMOTE_ADDR=None)
    response = client.post("/account/login", {"email": "a@b.c", "password": "x"}, format="json")
    assert response.status_code in (400, 401)
    assert "detail" in response.json()

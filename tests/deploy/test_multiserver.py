"""Two app servers (two gunicorn processes on different ports) sharing one PostgreSQL and
one Redis, as in docs/PRODUCT.md "Scale": state lives only in those, never in a process.

The database is this test's own (created and dropped here); Redis keys carry a prefix of
this run alone in database 13 (FUNSUN_DEPLOY_REDIS), and only those keys are removed.
"""

import re
import sys
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.deploy.conftest import (
    REDIS_BASE_URL,
    app_env,
    bearer,
    funding_form,
    report_limits,
    run,
    scratch_database,
    scratch_redis_keys,
    signup,
    start_gunicorn,
)

pytestmark = pytest.mark.multiserver


@pytest.fixture(scope="module")
def database_url():
    with scratch_database("funsun_deploy") as url:
        yield url


@pytest.fixture(scope="module")
def redis_prefix():
    prefix = f"funsun-deploytest-{uuid.uuid4().hex[:12]}"
    with scratch_redis_keys(prefix, f"{prefix}:*"):
        yield prefix


@pytest.fixture(scope="module")
def servers(processes, static_root, database_url, redis_prefix, tmp_path_factory):
    folder = tmp_path_factory.mktemp("multiserver")
    media_root = folder / "media"
    media_root.mkdir()
    env = app_env(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_BASE_URL,
        CACHE_KEY_PREFIX=redis_prefix,
        STATIC_ROOT=static_root,
        MEDIA_ROOT=media_root,
    )
    run([sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"], env)
    first = start_gunicorn(processes, "gunicorn-a", folder / "a", env)
    second = start_gunicorn(processes, "gunicorn-b", folder / "b", env)
    return first, second


@pytest.fixture
def clients(servers):
    with (
        httpx.Client(base_url=servers[0].base_url, timeout=30) as a,
        httpx.Client(base_url=servers[1].base_url, timeout=30) as b,
    ):
        yield a, b


def test_servers_are_separate_processes_on_one_database(servers, clients):
    a, b = clients
    assert servers[0].process.pid != servers[1].process.pid
    account = signup(a, "", "twin")
    # Signed up through A, the account signs in through B.
    login = b.post(
        "/account/login",
        data={"email": account["user"]["email"], "password": account["password"]},
    )
    assert login.status_code == 200, login.text
    assert b.post("/account/", headers=bearer(account)).json()["id"] == account["user"]["id"]


def test_a_rate_limit_reached_through_one_server_holds_on_the_other(clients, redis_prefix):
    """Reports are limited per account: half the allowance through each server, then both
    refuse."""
    import redis

    a, b = clients
    per_account, _per_ip = report_limits()
    headers = bearer(signup(a, "", "limited"))
    report = {"type": "funding", "target": "987654321", "message": "spam"}
    for n in range(per_account):
        response = (a, b)[n % 2].post("/report/", json=report, headers=headers)
        assert response.status_code != 429, f"request {n + 1} of {per_account} was refused"
    refused_a = a.post("/report/", json=report, headers=headers)
    refused_b = b.post("/report/", json=report, headers=headers)
    assert refused_a.status_code == 429
    assert refused_b.status_code == 429
    assert int(refused_b.headers["retry-after"]) > 0
    # The counters are in Redis under this run's prefix (and nowhere in a process).
    keys = redis.Redis.from_url(REDIS_BASE_URL).keys(f"{redis_prefix}:*report*")
    assert keys


def test_an_account_deleted_through_one_server_is_signed_out_of_the_other_at_once(clients):
    """The account behind a token is cached (accounts/cache.py) in Redis, shared: the
    deletion through A drops it for B as well."""
    a, b = clients
    headers = bearer(signup(a, "", "leaving"))
    # Both servers have read the account (and cached it).
    for client in (a, b, a, b):
        assert client.post("/account/", headers=headers).status_code == 200
    assert a.delete("/account/", headers=headers).status_code == 200
    for client in (b, a):
        refused = client.post("/account/", headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.json() == {"detail": "This account has been deactivated."}


def test_an_edit_made_through_one_server_shows_through_the_other_at_once(clients):
    """Each process keeps the words of the fundings it showed in a feed
    (fundings/selectors/cards.py), under the funding's `updated_on`: an edit through A is
    a new key for every process of B."""
    a, b = clients
    author = signup(a, "", "editor")
    headers = bearer(author)
    created = a.post("/funding/", data=funding_form("First words"), headers=headers)
    assert created.status_code == 201, created.text
    funding_id = created.json()["id"]
    feed = {"id": author["user"]["id"], "page": 1}
    # Several reads through B: each of its workers keeps the words it showed.
    for _ in range(6):
        page = b.get("/funding/user", params=feed, headers=headers)
        assert [item["title"] for item in page.json()] == ["First words"], page.text
    edited = a.put(
        "/funding/",
        data={"id": str(funding_id), "title": "Second words", "content": "Changed."},
        headers=headers,
    )
    assert edited.status_code == 200, edited.text
    for _ in range(6):
        [card] = b.get("/funding/user", params=feed, headers=headers).json()
        assert (card["title"], card["content"]) == ("Second words", "Changed.")


def checkout_pay(client: httpx.Client, url: str) -> str:
    """Press "pay" on the sandbox checkout page as a browser does; returns the pg_token."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    token = re.search(r"name=[\"']csrfmiddlewaretoken[\"'] value=[\"']([^\"']+)", page.text)
    assert token, page.text
    paid = client.post(
        url,
        data={"csrfmiddlewaretoken": token.group(1), "action": "pay"},
        headers={"Referer": url},
        follow_redirects=False,
    )
    assert paid.status_code == 302, paid.text
    return parse_qs(urlsplit(paid.headers["location"]).query)["pg_token"][0]


def test_a_contribution_made_through_one_server_is_seen_by_the_other_at_once(servers, clients):
    a, b = clients
    author = signup(a, "", "author")
    created = a.post("/funding/", data=funding_form("Shared gift"), headers=bearer(author))
    assert created.status_code == 201, created.text
    funding_id = created.json()["id"]

    friend = signup(b, "", "friend")
    headers = bearer(friend)
    # Each step of the payment journey on alternating servers: no step may rely on memory
    # of the one before it in the same process.
    ready = a.post("/remit/kakaopay/ready", data={"amount": "10000"}, headers=headers)
    assert ready.status_code == 200, ready.text
    checkout = urlsplit(ready.json()["url"])
    pg_token = checkout_pay(b, f"{servers[1].base_url}{checkout.path}")
    stored = a.post("/remit/kakaopay/approve", data={"pg_token": pg_token}, headers=headers)
    assert stored.status_code == 200, stored.text
    approved = b.get("/remit/kakaopay/approve", headers=headers)
    assert approved.status_code == 200, approved.text
    remit = a.post(
        "/remit/",
        json={"funding": str(funding_id), "amount": 10000, "message": "Happy birthday!"},
        headers=headers,
    )
    assert remit.status_code == 201, remit.text

    # At once, through the other server: nothing of the money is kept in a process.
    joined = b.get("/funding/joined", headers=headers)
    assert joined.status_code == 200, joined.text
    assert [item["id"] for item in joined.json()] == [funding_id]
    assert joined.json()[0]["current_amount"] == 10000
    remits = b.get("/remit/", params={"id": funding_id})
    assert remits.status_code == 200, remits.text
    assert [(r["message"], r["author"]["id"]) for r in remits.json()] == [
        ("Happy birthday!", friend["user"]["id"])
    ]
    seen_by_author = b.get("/funding/", params={"id": funding_id}, headers=bearer(author))
    assert seen_by_author.json()["current_amount"] == 10000

    # The same payment cannot be credited twice, whichever server is asked.
    again = b.post(
        "/remit/",
        json={"funding": funding_id, "amount": 10000, "message": "Twice?"},
        headers=headers,
    )
    assert again.status_code == 402, again.text

"""What every part of the benchmark shares: places, the environment, the measured paths.

This module must not import Django: the orchestrator (bench/__main__.py) runs without it and
starts Django only in subprocesses, each with the environment of one benchmark database.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
OUT_DIR = BENCH_DIR / "out"
MEDIA_DIR = OUT_DIR / "media"
PYTHON = sys.executable

SQLITE_PATH = OUT_DIR / "bench.sqlite3"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_NAME = "funsun_bench"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
# Django's vendor name of each database, used in the names of the files under bench/out/.
VENDOR = {"sqlite": "sqlite", "postgres": "postgresql"}

# The seed is fixed: two runs build the same rows (times are relative to the seeding moment).
SEED = 20_240_601

# The substring the search path looks for; the seed gives it to exactly SEARCH_MATCHES accounts
# and to no one else ("<name>_sunny<n>"; no other name contains "unny").
SEARCH_TERM = "unny"
SEARCH_MATCHES = 100

BENCH_EMAIL = "bench@funsun.test"
BENCH_PASSWORD = "bench-password-0"  # a benchmark-only account in a throwaway database


def database_url(db: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    if db == "postgres":
        return PG_URL
    raise ValueError(db)


FCM_PROJECT = "funsun-bench"
FCM_CREDENTIALS = OUT_DIR / "fcm-service-account.json"


def jobs_file(db: str) -> Path:
    return OUT_DIR / f"jobs-{db}.sqlite3"


def account_cache_dir(db: str) -> Path:
    return OUT_DIR / f"account-cache-{db}"


def django_env(
    db: str,
    *,
    secret_key: str,
    port: int | None = None,
    fcm_url: str = "",
    notifications: bool = True,
) -> dict[str, str]:
    """The environment of every Django process of one run: seeding, server, consumer, query
    counts. With `fcm_url`, push goes to the local FCM fake (bench/fcm.py) at that address."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "funsun.settings",
            "DATABASE_URL": database_url(db),
            "DEBUG": "false",
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "MEDIA_ROOT": str(MEDIA_DIR),
            "PAYMENT_PROVIDER": "sandbox",
            # Tokens minted before the load must outlive a full run of both databases.
            "ACCESS_TOKEN_LIFETIME_MINUTES": "600",
            "LOG_LEVEL": "WARNING",
            # Plain http on the loopback: no redirects, no Secure-only cookies.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "PYTHONHASHSEED": "0",
            # All load comes from one address and a few payers: the abuse limits would
            # measure themselves (429s) instead of the API.
            "THROTTLE_RATES": "payment_ready=off,payment_ready_ip=off",
            # The background jobs' queue of this run only: a file under bench/out/ (or, with
            # REDIS_URL set, Redis keys of their own), never `make run`'s queue.
            "JOBS_SQLITE_PATH": str(jobs_file(db)),
            "JOBS_QUEUE": f"funsun-bench-{db}",
            # The accounts' cache of this run's processes (accounts/cache.py), not var/'s.
            "ACCOUNT_CACHE_DIR": str(account_cache_dir(db)),
            "NOTIFICATIONS_ENABLED": "true" if notifications else "false",
        }
    )
    if fcm_url:
        env.update(
            {
                "FCM_CREDENTIALS_FILE": str(FCM_CREDENTIALS),
                "FCM_PROJECT_ID": FCM_PROJECT,
                "FCM_API_BASE_URL": fcm_url,
            }
        )
    else:
        for name in ("FCM_CREDENTIALS_FILE", "FCM_PROJECT_ID", "FCM_API_BASE_URL"):
            env.pop(name, None)
    # Rate limits and cache: the default local-memory cache unless the caller set Redis.
    if port is not None:
        env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    return env


@dataclass(frozen=True)
class BenchPath:
    """One measured route. `url` is formatted with the fixture (ids chosen by the seed)."""

    name: str
    url: str
    auth: bool = True
    kind: str = "read"  # read | search | ceiling | journey | notify_worker
    note: str = ""
    # Journeys: the server runs with notifications on (in-app and push) or off.
    notifications: bool = True
    # Journeys: after each 201, the funding's author reads GET /notification/ until it shows.
    read_back: bool = False
    # Journeys with notifications on: the push consumer is stopped during the load and drains
    # the backlog after it (in a deployment it runs on machines of its own).
    push_after: bool = False

    def target(self, db: str) -> str:
        if self.read_back:
            return "every notification readable, none lost"
        if not self.notifications:
            return "`journey_push_after` within 10% of it, none lost"
        if self.kind == "notify_worker":
            return "-"
        if self.kind == "read":
            return ">=50% of ceiling, p99<=60ms"
        if self.kind == "search":
            return ">=25% of ceiling, p99<=60ms"
        if self.kind == "journey":
            wanted = db == "postgres" and self.name == "journey"
            return ">=60 contrib/s, none lost" if wanted else "none lost"
        return "-"


PATHS: list[BenchPath] = [
    BenchPath("ceiling", "/healthz", auth=False, kind="ceiling", note="trivial JSON, no auth"),
    BenchPath("public_p1", "/funding/public?page=1", note="public feed, page 1"),
    BenchPath("public_p50", "/funding/public?page=50", note="public feed, page 50"),
    BenchPath("following", "/funding/following?page=1", note="fundings of followees"),
    BenchPath("user_friend", "/funding/user?id={friend_id}&page=1", note="a friend's fundings"),
    BenchPath("joined", "/funding/joined?page=1", note="fundings the bench user joined"),
    BenchPath("detail", "/funding/?id={detail_id}", note="one visible funding"),
    BenchPath("remits_hot", "/remit/?id={hot_id}&page=1", note="remits of the hottest funding"),
    BenchPath("profile", "/account/?id={profile_id}", note="someone's profile"),
    BenchPath(
        "search",
        "/account/search?username={search_term}&page=1",
        kind="search",
        note=f"{SEARCH_MATCHES} accounts match",
    ),
    BenchPath(
        "journey",
        "/remit/kakaopay/ready",
        kind="journey",
        note="ready, checkout pay, approve (POST+GET), remit",
    ),
    BenchPath(
        "journey_push_after",
        "/remit/kakaopay/ready",
        kind="journey",
        note="the journey, notifications on, pushed after the load",
        push_after=True,
    ),
    BenchPath(
        "journey_notify_off",
        "/remit/kakaopay/ready",
        kind="journey",
        note="the journey, NOTIFICATIONS_ENABLED=false",
        notifications=False,
    ),
    BenchPath(
        "notify_delay",
        "/remit/kakaopay/ready",
        kind="journey",
        note="the journey, then the author reads GET /notification/ until it shows",
        read_back=True,
    ),
    BenchPath(
        "notify_worker",
        "/notification/",
        kind="notify_worker",
        note="in-app notifications made by one process, pushes sent by one consumer",
    ),
]
PATHS_BY_NAME = {p.name: p for p in PATHS}


def out_file(name: str) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUT_DIR / name


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def merged_errors(parts: list[dict]) -> tuple[dict[str, int], dict[str, str]]:
    """The `errors` counts (by kind) and `error_detail` texts of several loads, together."""
    errors: dict[str, int] = {}
    details: dict[str, str] = {}
    for part in parts:
        for key, count in part["errors"].items():
            errors[key] = errors.get(key, 0) + count
        details.update(part.get("error_detail", {}))
    return errors, details


def emit(data) -> None:
    """A subprocess hands its result to the orchestrator as the last line of its stdout."""
    sys.stdout.write("BENCHJSON " + json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def parse_emitted(stdout: str):
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCHJSON "):
            return json.loads(line[len("BENCHJSON ") :])
    raise ValueError("no BENCHJSON line in output:\n" + stdout[-2000:])

"""`python -m bench`: seed, serve with gunicorn, load every path, count queries, report.

For each database asked for (--db sqlite|postgres|both):
  1. drop and recreate the benchmark database (bench/out/bench.sqlite3, or funsun_bench on
     127.0.0.1:5432), migrate it with manage.py and seed it (bench/seed.py);
  2. mint tokens for the bench user and the payers (bench/inproc.py prepare);
  3. start gunicorn (deploy/gunicorn.conf.py, flags below) on a free 127.0.0.1 port;
  4. per read path: probe once (a route that is not there is reported "missing (status N)"),
     warm up, then wrk (bench/wrk.lua) with --clients connections for --duration seconds;
     the journey (the write path) runs with bench/journey.py; CPU of the server, the database
     and the load generator is sampled from /proc around every measurement;
     the notification paths run after the reads, with push to a local FCM fake (bench/fcm.py)
     and one huey consumer (manage.py run_huey); last, the journey with notifications on and
     the consumer stopped (journey_push_after) and with them off (journey_notify_off), each
     on a server of its own started together for them, interleaved: off, on, off, on... for
     --rounds rounds, then the consumer pushes the backlog (bench/README.md "Notifications");
  5. stop the server; count SQL queries per request in-process (bench/inproc.py queries) and
     check the money invariant (bench/inproc.py check);
  6. print a table and write bench/RESULTS.md (a partial run writes bench/out/RESULTS-partial.md).

Parts: bench/procs.py (processes, CPU), servers.py (gunicorn, FCM fake, consumer), load.py
(reads), rounds.py (journeys, notifications), verdict.py (targets), report.py (RESULTS.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    BENCH_DIR,
    OUT_DIR,
    PATHS,
    PATHS_BY_NAME,
    PG_ADMIN_URL,
    PG_NAME,
    PYTHON,
    ROOT,
    SQLITE_PATH,
    VENDOR,
    account_cache_dir,
    django_env,
    jobs_file,
    out_file,
    read_json,
    write_json,
)
from bench.load import ensure_wrk, get, load_read, warm_server
from bench.procs import log, machine_busy, run, run_json
from bench.report import DB_TITLE, section, table, write_results
from bench.rounds import (
    COMPARED,
    NOTIFY_ORDER,
    measure_comparison,
    measure_notified_journey,
    measure_worker,
)
from bench.servers import Consumer, FakeFCM, Server, server_settings
from bench.verdict import plural

# --- databases ------------------------------------------------------------------------------


def reset_database(db: str) -> None:
    # A new database: no account cached from the one before it.
    shutil.rmtree(account_cache_dir(db), ignore_errors=True)
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_NAME}")


def database_version(db: str) -> str:
    if db == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(PG_ADMIN_URL) as conn:
        return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]


def seed(db: str, secret_key: str) -> dict:
    env = django_env(db, secret_key=secret_key)
    started = time.perf_counter()
    reset_database(db)
    run([PYTHON, "manage.py", "migrate", "--noinput"], env)
    migrated = time.perf_counter()
    info = run_json([PYTHON, "-m", "bench.seed"], env)
    info["seconds"]["reset_and_migrate"] = round(migrated - started, 2)
    info["seconds"]["total"] = round(time.perf_counter() - started, 2)
    write_json(out_file(f"seed-{VENDOR[db]}.json"), info)
    return info


# --- one database ---------------------------------------------------------------------------


def bench_database(db: str, args, names: list[str], wrk: str | None) -> dict:
    secret_key = secrets.token_urlsafe(50)
    env = django_env(db, secret_key=secret_key)
    if args.reuse_db and out_file(f"seed-{VENDOR[db]}.json").exists():
        log(f"{db}: reusing the seeded database")
        seed_info = read_json(out_file(f"seed-{VENDOR[db]}.json"))
    else:
        log(f"{db}: seeding (drop, migrate, bulk insert)")
        seed_info = seed(db, secret_key)
        log(f"{db}: seeded in {seed_info['seconds']['total']} s: {seed_info['counts']}")
    if args.seed_only:
        return {"db": db, "seed": seed_info}
    run([PYTHON, "-m", "bench.inproc", "prepare"], env)
    fixture_path = out_file(f"fixture-{VENDOR[db]}.json")
    fixture = read_json(fixture_path)
    before = fixture["state"]
    results: dict[str, dict] = {}
    idle_busy = machine_busy()
    if idle_busy > 0.15:
        log(f"warning: the machine is {idle_busy:.0%} busy before the load: figures will be low")
    # Reads first; then, with push to the local FCM fake and one consumer running, the
    # notification paths and the journey (notifications on); last the journey with
    # notifications on and the consumer stopped against the journey with them off, on a second
    # server started beside the first, interleaved round by round (measure_comparison).
    compared = [n for n in COMPARED if n in names]
    on_paths = [
        n
        for n in NOTIFY_ORDER
        if n in names and PATHS_BY_NAME[n].notifications and n not in compared
    ]
    reads = [n for n in names if n not in NOTIFY_ORDER]
    notified = bool(on_paths) or "journey_push_after" in compared
    if notified or compared:
        jobs_file(db).unlink(missing_ok=True)
        run_json([PYTHON, "-m", "bench.notify", "flush"], env)
    with contextlib.ExitStack() as stack:
        fcm = stack.enter_context(FakeFCM(db)) if notified else None
        fcm_url = fcm.base_url if fcm else ""
        if fcm:
            # The in-process parts (notify.py, the query count) push as the server does.
            env = django_env(db, secret_key=secret_key, fcm_url=fcm_url)
        server = stack.enter_context(Server(db, secret_key, args, fcm_url=fcm_url))
        settings = server.settings
        log(
            f"{db}: gunicorn on 127.0.0.1:{server.port}: {settings['worker_class']}, "
            f"{settings['workers']} workers x {settings['threads']} threads, "
            f"max_requests {settings['max_requests']}"
            + (f"; push to the FCM fake at {fcm_url}" if fcm else "")
        )
        warm_server(server.port, args, wrk)
        for name in reads:
            path = PATHS_BY_NAME[name]
            url = path.url.format(**fixture)
            token = fixture["bench_token"] if path.auth else ""
            status, _ = get(server.port, url, token)
            if status != 200:
                results[name] = {"missing": f"status {status}"}
                log(f"{db}: {name:12} missing (status {status})")
                continue
            results[name] = load_read(server.port, url, token, args, wrk, server.proc.pid)
            r = results[name]
            log(
                f"{db}: {name:12} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                f"p99 {r['p99_ms']:6.1f} ms  statuses {r['statuses']}"
            )
        consumer = None
        if notified:
            consumer = Consumer(db, secret_key, fcm_url)
            stack.callback(consumer.stop)
        for name in on_paths:
            if PATHS_BY_NAME[name].kind == "notify_worker":
                log(f"{db}: notify_worker ({args.duration} s of notifications, then pushes)")
                results[name] = measure_worker(db, env, args, consumer, fcm)
                continue
            consumer.start()
            results[name] = measure_notified_journey(
                db, name, env, server, fixture_path, args, consumer, fcm
            )
        if compared:
            # Two servers started together for the rounds, with notifications off and on: the
            # main server has served every path before, and a process's history (its heap,
            # its caches) is not what is compared.
            servers = {}
            for name in compared:
                notifying = name == "journey_push_after"
                servers[name] = stack.enter_context(
                    Server(
                        db,
                        secret_key,
                        args,
                        fcm_url=fcm_url if notifying else "",
                        notifications=notifying,
                        log_suffix="-notify-on" if notifying else "-notify-off",
                    )
                )
                log(f"{db}: {name}: gunicorn on 127.0.0.1:{servers[name].port}")
            for compared_server in servers.values():
                warm_server(compared_server.port, args, wrk)
            log(
                f"{db}: {', '.join(compared)}: {plural(args.rounds, 'round')}"
                + (", interleaved (off, on)" if len(compared) > 1 else "")
                + ("; the consumer stopped until the last is over" if consumer else "")
            )
            results |= measure_comparison(
                db,
                env,
                servers,
                fixture_path,
                args,
                consumer,
                fcm,
            )
            on = results.get("journey_push_after", {})
            if "journey_notify_off" in compared and on and "missing" not in on:
                # The same comparison without the drift: one process, journey by journey.
                log(f"{db}: the journey's CPU with notifications on and off, in-process")
                on["inproc_cpu"] = run_json([PYTHON, "-m", "bench.inproc", "notify_cpu"], env)
    results = {n: results[n] for n in (p.name for p in PATHS) if n in results}
    log(f"{db}: counting SQL queries per request (in-process) and checking the money")
    queries = run_json([PYTHON, "-m", "bench.inproc", "queries", "--paths", ",".join(names)], env)
    if "journey_notify_off" in compared:
        off_env = django_env(db, secret_key=secret_key, notifications=False)
        queries["journey_notify_off"] = run_json(
            [
                PYTHON,
                "-m",
                "bench.inproc",
                "queries",
                "--paths",
                "journey",
                "--label",
                "notify-off",
            ],
            off_env,
        ).get("journey", {})
    after = run_json([PYTHON, "-m", "bench.inproc", "check"], env)
    explained = run_json([PYTHON, "-m", "bench.inproc", "explain", "--paths", ",".join(names)], env)
    log(f"{db}: query plans in {explained['file']}")
    if args.profile:
        log(f"{db}: profiling in-process with cProfile")
        for name, p in run_json(
            [PYTHON, "-m", "bench.inproc", "profile", "--paths", ",".join(names)], env
        ).items():
            log(f"{db}: {name:12} {p['cpu_ms']:7.2f} ms CPU/request in-process -> {p['file']}")
    return {
        "db": db,
        "db_version": database_version(db),
        "seed": seed_info,
        "results": results,
        "queries": queries,
        "money_before": before,
        "money_after": after,
        "busy_before": idle_busy,
        "server": server_settings(args),
        "load": {
            "clients": args.clients,
            "duration": args.duration,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "round_seconds": args.round_seconds,
            "tool": "wrk" if wrk else "pyload",
        },
    }


# --- report ---------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    versions = json.loads(
        run(
            [
                PYTHON,
                "-c",
                "import json, django, rest_framework, gunicorn, rest_framework_simplejwt as j;"
                "from importlib.metadata import version as v;"
                "print(json.dumps({'django': django.get_version(),"
                " 'drf': rest_framework.VERSION, 'gunicorn': gunicorn.__version__,"
                " 'simplejwt': v('djangorestframework-simplejwt'),"
                " 'psycopg': v('psycopg')}))",
            ]
        )
    )
    wrk = shutil.which("wrk")
    wrk_version = ""
    if wrk:
        text = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        wrk_version = (text.stdout + text.stderr).split("Copyright")[0].strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": wrk_version,
        **versions,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=15, help="seconds measured per path")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per path")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    # Short rounds, many of them: this machine's speed drifts by more than notifications
    # cost within a minute, and the closer an on round follows its off round, the less of
    # that drift lands between the two.
    parser.add_argument(
        "--rounds",
        type=int,
        default=8,
        help="rounds of journey_notify_off and journey_push_after, interleaved (default 8)",
    )
    parser.add_argument(
        "--round-seconds",
        type=int,
        default=6,
        help="seconds measured in each of those rounds (after --warmup; default 6)",
    )
    parser.add_argument(
        "--paths",
        default="all",
        help="comma-separated, from: " + ", ".join(p.name for p in PATHS),
    )
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop")
    parser.add_argument("--reuse-db", action="store_true", help="skip seeding if seeded before")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: deploy conf)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: deploy conf)")
    parser.add_argument("--worker-class", help="gunicorn worker class (default: deploy conf)")
    # deploy/gunicorn.conf.py recycles a worker after ~5,000 requests: at these rates that is
    # one cold worker (the app imported again, seconds of CPU) every few seconds, landing at
    # random inside measurements. Off by default for repeatable figures; --max-requests 5000
    # measures it.
    parser.add_argument(
        "--max-requests", type=int, default=0, help="worker recycling, 0 never (default 0)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile each read path in-process"
    )
    parser.add_argument(
        "--load-client",
        choices=["wrk", "python"],
        default="wrk",
        help="reads: wrk (installed when missing) or the Python client",
    )
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--journey-processes", type=int, default=4)
    parser.add_argument("--results", help="where to write the report (default: see above)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.round_seconds < 1:
        parser.error("--round-seconds must be at least 1")

    names = [p.name for p in PATHS] if args.paths == "all" else args.paths.split(",")
    unknown = [n for n in names if n not in PATHS_BY_NAME]
    if unknown:
        parser.error(f"unknown paths: {unknown}")
    if "ceiling" not in names:
        names.insert(0, "ceiling")  # every fraction is of the ceiling measured in the same run
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    info = machine()
    wrk = None if args.seed_only or args.load_client == "python" else ensure_wrk()
    runs = []
    for db in dbs:
        result = bench_database(db, args, names, wrk)
        write_json(out_file(f"results-{db}.json"), result)
        if args.seed_only:
            continue
        runs.append(result)
        rows, notes = table(result)
        print(f"\n{DB_TITLE[db]} ({result['db_version']})\n{rows}")
        for note in notes:
            print(note)
        print(section(result).split("Money check after the load: ", 1)[1].split("\n")[0])
    if not runs:
        return
    full = (
        len(names) == len(PATHS) and args.duration >= 15 and args.clients == 16 and args.rounds >= 3
    )
    target = (
        Path(args.results)
        if args.results
        else (BENCH_DIR / "RESULTS.md" if full else out_file("RESULTS-partial.md"))
    )
    write_results(target, runs, info, argv)
    log(f"results written to {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")


if __name__ == "__main__":
    main()

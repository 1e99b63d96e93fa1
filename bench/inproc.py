"""The parts of the benchmark that run inside Django, against the benchmark database.

    python -m bench.inproc prepare   tokens for the bench user, the payers and the write targets'
                                     authors -> fixture JSON; a phone (FCM token) per account
    python -m bench.inproc queries   SQL queries per request of every path (django.test.Client)
    python -m bench.inproc check     the money invariant: sum(contributions) == current_amount
    python -m bench.inproc profile   cProfile of --repeat requests per read path -> bench/out/
    python -m bench.inproc explain   the plan of every query of the read paths -> bench/out/
    python -m bench.inproc notify_cpu  CPU of a journey with notifications on and off, journey
                                     by journey in one process

The orchestrator runs these in the environment of one benchmark database (same settings as
the server: DEBUG off, the same DATABASE_URL), never against db.sqlite3 or a test database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import django

from bench.common import PATHS, emit, out_file, read_json, write_json


def prepare(vendor: str) -> dict:
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import Account
    from fundings.models import Funding
    from notifications.models import Device

    seed = read_json(out_file(f"seed-{vendor}.json"))
    authors = dict(Funding.objects.filter(pk__in=seed["target_ids"]).values_list("pk", "author_id"))
    wanted = [seed["bench_user_id"], *seed["payer_ids"], *authors.values()]
    accounts = Account.objects.in_bulk(wanted)
    tokens = {pk: str(RefreshToken.for_user(accounts[pk]).access_token) for pk in wanted}
    fixture = seed | {
        "bench_token": tokens[seed["bench_user_id"]],
        "payer_tokens": [tokens[pk] for pk in seed["payer_ids"]],
        # The write targets' authors read their notifications (the notify_delay path).
        "author_tokens": {str(pk): tokens[author] for pk, author in authors.items()},
    }
    # Every account has a phone: each notification is pushed once (when FCM is configured).
    Device.objects.bulk_create(
        [
            Device(account_id=pk, token=f"bench-device-{pk}")
            for pk in Account.objects.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    fixture["state"] = money_state()
    write_json(out_file(f"fixture-{vendor}.json"), fixture)
    return {"fixture": str(out_file(f"fixture-{vendor}.json")), "state": fixture["state"]}


class ClientTransport:
    """The journey's transport, in-process through django.test.Client (no CSRF checks)."""

    def __init__(self):
        from django.test import Client

        self.client = Client(HTTP_HOST="127.0.0.1")

    def request(self, method: str, path: str, headers: dict, body: bytes | None = None):
        extra = {
            "HTTP_" + k.upper().replace("-", "_"): v
            for k, v in headers.items()
            if k.lower() != "content-type"
        }
        content_type = headers.get("Content-Type", "application/octet-stream")
        response = self.client.generic(
            method, path, data=body or b"", content_type=content_type, **extra
        )
        return response.status_code, {k.lower(): v for k, v in response.items()}, response.content


def queries(vendor: str, names: list[str], label: str = "") -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.journey import JourneyError, run_journey

    fixture = read_json(out_file(f"fixture-{vendor}.json"))
    transport = ClientTransport()
    auth = {"Authorization": f"Bearer {fixture['bench_token']}"}
    results = {}
    for path in PATHS:
        if path.name not in names or path.kind not in ("read", "search", "ceiling"):
            continue
        url = path.url.format(**fixture)
        headers = auth if path.auth else {}
        transport.request("GET", url, headers)  # warm per-process caches first
        with CaptureQueriesContext(connection) as ctx:
            status, _, _ = transport.request("GET", url, headers)
        results[path.name] = {
            "status": status,
            "queries": len(ctx.captured_queries),
            "sql": [q["sql"] for q in ctx.captured_queries],
        }
    if "journey" in names:
        per_step: list[dict] = []
        ctx = CaptureQueriesContext(connection)

        class Counting:
            def request(self, method, path, headers, body=None):
                with CaptureQueriesContext(connection) as step_ctx:
                    answer = transport.request(method, path, headers, body)
                per_step.append(
                    {
                        "path": path.split("?")[0],
                        "status": answer[0],
                        "queries": len(step_ctx.captured_queries),
                        "sql": [q["sql"] for q in step_ctx.captured_queries],
                    }
                )
                return answer

        try:
            with ctx:
                run_journey(
                    Counting(),
                    fixture["payer_tokens"][-1],
                    fixture["target_ids"][-1],
                    1_000,
                    "bench query count",
                )
            results["journey"] = {
                "status": 201,
                "queries": len(ctx.captured_queries),
                "steps": per_step,
            }
        except JourneyError as exc:
            results["journey"] = {"status": exc.status, "step": exc.step, "steps": per_step}
    write_json(out_file(f"queries-{vendor}{'-' + label if label else ''}.json"), results)
    # The SQL text stays in the file; the orchestrator needs the counts only.
    summary = {}
    for name, result in results.items():
        summary[name] = {k: v for k, v in result.items() if k not in ("sql", "steps")}
        if "steps" in result:
            summary[name]["steps"] = [
                [s["path"], s["status"], s["queries"]] for s in result["steps"]
            ]
    return summary


def profile(vendor: str, names: list[str], repeat: int) -> dict:
    """Where a read path spends its time, in-process (no network, no contention)."""
    import cProfile
    import io
    import pstats

    fixture = read_json(out_file(f"fixture-{vendor}.json"))
    transport = ClientTransport()
    auth = {"Authorization": f"Bearer {fixture['bench_token']}"}
    timings = {}
    for path in PATHS:
        if path.name not in names or path.kind not in ("read", "search", "ceiling"):
            continue
        url = path.url.format(**fixture)
        headers = auth if path.auth else {}
        for _ in range(5):
            transport.request("GET", url, headers)
        started = time.process_time()
        for _ in range(repeat):
            transport.request("GET", url, headers)
        plain = (time.process_time() - started) / repeat * 1000
        # CPU time, not wall time: waiting for the database or for a core is not counted.
        profiler = cProfile.Profile(time.process_time)
        started = time.perf_counter()
        profiler.enable()
        for _ in range(repeat):
            transport.request("GET", url, headers)
        profiler.disable()
        per_request = (time.perf_counter() - started) / repeat * 1000
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        text.write(
            f"{url}: {plain:.2f} ms CPU a request in-process (django.test.Client), "
            f"{per_request:.2f} ms under cProfile\n"
        )
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        target = out_file(f"profile-{vendor}-{path.name}.txt")
        target.write_text(text.getvalue())
        timings[path.name] = {"cpu_ms": round(plain, 2), "file": str(target)}
    return timings


def explain(vendor: str, names: list[str]) -> dict:
    """The database's plan of every query the read paths ran (run `queries` first)."""
    from django.db import connection

    captured = read_json(out_file(f"queries-{vendor}.json"))
    prefix = "EXPLAIN ANALYZE " if vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    lines = []
    for name, result in captured.items():
        if name not in names or name == "journey":
            continue
        for sql in result.get("sql", []):
            lines += [f"===== {name}", sql]
            with connection.cursor() as cursor:
                cursor.execute(prefix + sql)
                lines += [" ".join(str(c) for c in row) for row in cursor.fetchall()]
            lines.append("")
    target = out_file(f"explain-{vendor}.txt")
    target.write_text("\n".join(lines))
    return {"file": str(target)}


def notify_cpu(vendor: str, journeys: int) -> dict:
    """The web tier's CPU for one journey with notifications on and with them off, in one
    process that switches NOTIFICATIONS_ENABLED journey by journey (the receivers read it when
    an event happens). Every on journey runs beside an off one, so the machine's drift falls
    on both alike, which interleaved rounds under load only approach. CPU of this process
    only: the database server's is not in it (SQLite's is)."""
    from django.test import override_settings

    from bench.journey import run_journey

    fixture = read_json(out_file(f"fixture-{vendor}.json"))
    transport = ClientTransport()
    payers, targets = fixture["payer_tokens"], fixture["target_ids"]
    warm = 4  # the first journeys fill the process's caches
    spent: dict[bool, list[float]] = {True: [], False: []}
    for i in range(warm + 2 * journeys):
        on = i % 2 == 0
        with override_settings(NOTIFICATIONS_ENABLED=on):
            started = time.process_time()
            run_journey(
                transport, payers[i % len(payers)], targets[i % len(targets)], 1_000, "bench cpu"
            )
            took = time.process_time() - started
        if i >= warm:
            spent[on].append(took)
    on_ms = statistics.mean(spent[True]) * 1000
    off_ms = statistics.mean(spent[False]) * 1000
    return {
        "journeys": warm + 2 * journeys,
        "on_ms": round(on_ms, 2),
        "off_ms": round(off_ms, 2),
        # As a throughput: a CPU-bound server makes off_ms / on_ms as many contributions.
        "cost": 1 - off_ms / on_ms,
    }


def money_state() -> dict:
    """Counts that show whether money was lost: the invariant and the payments' states."""
    from django.db.models import Count, F, Q, Sum
    from django.db.models.functions import Coalesce

    from fundings.models import Contribution, Funding
    from payments.models import Payment

    started = time.perf_counter()
    sums = Funding.objects.annotate(
        credited=Coalesce(
            Sum("contributions__amount", filter=Q(contributions__refunded_on__isnull=True)), 0
        )
    )
    mismatched = list(
        sums.exclude(current_amount=F("credited")).values_list("id", "current_amount", "credited")[
            :20
        ]
    )
    states = dict(Payment.objects.values_list("state").annotate(n=Count("id")).order_by())
    last = Contribution.objects.order_by("-id").values_list("id", flat=True).first()
    return {
        "fundings": Funding.objects.count(),
        "mismatched_fundings": len(mismatched),
        "mismatched_examples": mismatched,
        "over_goal": Funding.objects.filter(current_amount__gt=F("goal_amount")).count(),
        "contributions": Contribution.objects.count(),
        "last_contribution_id": last,
        "payments_by_state": states,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "action", choices=["prepare", "queries", "check", "profile", "explain", "notify_cpu"]
    )
    parser.add_argument("--paths", default=",".join(p.name for p in PATHS))
    parser.add_argument("--label", default="", help="queries: a suffix of the output file")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--journeys", type=int, default=150, help="notify_cpu: each way")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funsun.settings")
    django.setup()
    from django.db import connection

    vendor = connection.vendor
    if args.action == "prepare":
        emit(prepare(vendor))
    elif args.action == "queries":
        emit(queries(vendor, args.paths.split(","), args.label))
    elif args.action == "explain":
        emit(explain(vendor, args.paths.split(",")))
    elif args.action == "profile":
        emit(profile(vendor, args.paths.split(","), args.repeat))
    elif args.action == "notify_cpu":
        emit(notify_cpu(vendor, args.journeys))
    else:
        emit(money_state())


if __name__ == "__main__":
    main()

"""Judging one database's results against the targets: the cost of notifications, whether
each path met its target and what bounds it, and whether any money was lost."""

from __future__ import annotations

import statistics

from bench.common import PATHS_BY_NAME
from bench.journey import READ_BACK_SECONDS

READ_FRACTION = {"read": 0.5, "search": 0.25}
P99_LIMIT_MS = 60.0
JOURNEY_TARGET = 60.0
# Issue 15: the journey with notifications on within 10 % of the same run with them off.
NOTIFY_COST_LIMIT = 0.10


def notify_cost(results: dict, on_name: str = "journey_push_after") -> float | None:
    """How much slower the journey `on_name` (notifications on) is than with them off (a
    fraction), from each one's figure (over all its rounds when measured in rounds)."""
    on, off = results.get(on_name, {}), results.get("journey_notify_off", {})
    if "missing" in on or "missing" in off:
        return None
    if not on.get("per_second") or not off.get("per_second"):
        return None
    return 1 - on["per_second"] / off["per_second"]


def comparison(results: dict) -> dict | None:
    """The interleaved rounds of `journey_push_after` and `journey_notify_off`: each round's
    contributions/s, the cost of each pair (an on round against the off round just before
    it, as in `notify_cost`) and the pairs' median."""
    on, off = results.get("journey_push_after", {}), results.get("journey_notify_off", {})
    if "missing" in on or "missing" in off or not on.get("rounds") or not off.get("rounds"):
        return None
    on_rates = [r["per_second"] for r in on["rounds"]]
    off_rates = [r["per_second"] for r in off["rounds"]]
    pairs = [1 - a / b for a, b in zip(on_rates, off_rates, strict=False) if b]
    return {
        "rounds": max(len(on_rates), len(off_rates)),
        "interleaved": bool(on.get("interleaved") and off.get("interleaved")),
        "on": on_rates,
        "off": off_rates,
        "pairs": pairs,
        "median": statistics.median(pairs) if pairs else None,
    }


def change(cost: float | None) -> str:
    """A cost (how much slower) as the change of on against off: 0.083 -> '-8.3%'."""
    return "?" if cost is None else f"{-cost:+.1%}"


def rates_text(rates: list[float]) -> str:
    return ", ".join(f"{x:.1f}" for x in rates)


def spread_text(compared: dict) -> str:
    """Each round's contributions/s and the pairs' costs, as a reader checks the noise."""
    return (
        f"off {rates_text(compared['off'])}; on {rates_text(compared['on'])}; on against the "
        f"off just before it, by pair: {', '.join(change(c) for c in compared['pairs'])} "
        f"(median {change(compared['median'])})"
    )


def evaluate(
    db: str,
    name: str,
    r: dict,
    ceiling: float | None,
    money_problem: str = "",
    results: dict | None = None,
) -> tuple[str, list[str]]:
    """('yes' / 'no' / '-', the reasons of a miss, each with how much)."""
    path = PATHS_BY_NAME[name]
    if "missing" in r:
        return "missing", [f"route missing ({r['missing']})"]
    misses = []
    if path.kind in READ_FRACTION:
        want = READ_FRACTION[path.kind]
        if ceiling:
            got = r["rps"] / ceiling
            if got < want:
                misses.append(
                    f"{got:.0%} of the ceiling < {want:.0%} ({want * ceiling - r['rps']:.0f} "
                    f"req/s short, x{want * ceiling / max(r['rps'], 0.1):.2f} needed)"
                )
        if r["p99_ms"] > P99_LIMIT_MS:
            misses.append(f"p99 {r['p99_ms']:.1f} ms > {P99_LIMIT_MS:.0f} ms")
        bad = {c: n for c, n in r["statuses"].items() if not c.startswith("2")}
        if bad:
            misses.append(f"non-2xx answers {bad}")
    elif path.kind == "journey":
        cost = notify_cost(results or {})
        if name == "journey_notify_off" and cost is not None and cost > NOTIFY_COST_LIMIT:
            compared = comparison(results or {})
            misses.append(
                f"with notifications on the journey is {cost:.1%} slower "
                f"(> {NOTIFY_COST_LIMIT:.0%})"
                + (
                    f" over {plural(compared['rounds'], 'interleaved round')}; "
                    + spread_text(compared)
                    if compared and compared["interleaved"]
                    else ""
                )
            )
        read = r.get("read_back")
        if read and read["unread"]:
            misses.append(
                f"{read['unread']} notifications not readable within "
                f"{READ_BACK_SECONDS:.0f} s of the 201"
            )
        if name == "journey" and db == "postgres" and r["per_second"] < JOURNEY_TARGET:
            misses.append(
                f"{r['per_second']:.1f} contributions/s < {JOURNEY_TARGET:.0f} "
                f"({JOURNEY_TARGET - r['per_second']:.1f}/s short)"
            )
        if r["errors"]:
            misses.append(f"failed journeys {r['errors']}")
        if money_problem:
            misses.append(money_problem)
    else:
        return "-", []
    return ("no" if misses else "yes"), misses


def bound_by(r: dict, queries: int | None, ceiling_cpu_ms: float | None) -> str:
    """What the measurement says limits a path: CPU (whose), or waiting."""
    cpu = r.get("cpu")
    if not cpu:
        return ""
    done = r.get("completed") or (r["rps"] * cpu["seconds"] if "rps" in r else 0)
    per = (lambda s: f"{1000 * s / done:.2f} ms") if done else (lambda s: "n/a")
    parts = [
        f"machine {cpu['machine_busy']:.0%} busy",
        f"server {per(cpu['server_cpu_s'])} CPU/{'contribution' if 'completed' in r else 'req'}",
    ]
    if cpu["db_cpu_s"]:
        parts.append(f"PostgreSQL {per(cpu['db_cpu_s'])}")
    if cpu.get("jobs_cpu_s"):
        parts.append(f"consumer and FCM fake {per(cpu['jobs_cpu_s'])}")
    parts.append(f"load generator {cpu['load_cpu_s'] / cpu['seconds']:.2f} cores")
    if cpu["other_cpu_s"] / cpu["seconds"] > 0.1:
        parts.append(f"other processes {cpu['other_cpu_s'] / cpu['seconds']:.2f} cores (noise)")
    if queries is not None:
        parts.append(f"{queries} SQL queries")
    text = ", ".join(parts)
    if cpu["machine_busy"] >= 0.9:
        verdict = "CPU-bound"
        if ceiling_cpu_ms and done and "rps" in r:
            ratio = 1000 * cpu["server_cpu_s"] / done / ceiling_cpu_ms
            verdict += f" (the server spends x{ratio:.1f} the ceiling's CPU per request)"
    else:
        verdict = "not CPU-bound: waiting (locks, I/O or too few workers/threads)"
    return f"{verdict}: {text}"


def journey_answers(run_result: dict) -> dict[str, int]:
    """Journeys that answered 201 per journey path: the load's (warm-up included) and its
    probe's (one a round for a path measured in rounds); and the query count's."""
    answered = {
        name: r["credited_total"] + r.get("probes", 1)
        for name, r in run_result["results"].items()
        if "credited_total" in r
    }
    if answered and run_result["queries"].get("journey", {}).get("status") == 201:
        answered["query count"] = 1
    if answered and run_result["queries"].get("journey_notify_off", {}).get("status") == 201:
        answered["query count off"] = 1
    inproc = run_result["results"].get("journey_push_after", {}).get("inproc_cpu")
    if answered and inproc:
        answered["in-process CPU"] = inproc["journeys"]
    return answered


def expected_new_contributions(run_result: dict) -> int | None:
    answered = journey_answers(run_result)
    return sum(answered.values()) if answered else None


def money_problems(run_result: dict) -> str:
    before, after = run_result["money_before"], run_result["money_after"]
    problems = []
    if after["mismatched_fundings"]:
        problems.append(f"{after['mismatched_fundings']} fundings' sums differ")
    if after["over_goal"]:
        problems.append(f"{after['over_goal']} fundings over goal")
    if after["payments_by_state"].get("approved", 0):
        problems.append(f"{after['payments_by_state']['approved']} approved payments uncredited")
    expected = expected_new_contributions(run_result)
    new = after["contributions"] - before["contributions"]
    if expected is not None and expected != new:
        problems.append(f"{expected} journeys answered 201 but {new} contributions were added")
    return "; ".join(problems)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def num(value, spec: str = ".1f") -> str:
    return "?" if value is None else format(value, spec)

"""The report: each database's table and sections, and bench/RESULTS.md written from them
(keeping the other database's section and the hand-written notes)."""

from __future__ import annotations

import os
from pathlib import Path

from bench.common import PATHS_BY_NAME
from bench.journey import READ_BACK_SECONDS
from bench.rounds import COMPARED
from bench.verdict import (
    NOTIFY_COST_LIMIT,
    bound_by,
    change,
    comparison,
    evaluate,
    expected_new_contributions,
    journey_answers,
    money_problems,
    notify_cost,
    num,
    plural,
    rates_text,
    spread_text,
)

DB_TITLE = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def table(run_result: dict) -> tuple[str, list[str]]:
    db = run_result["db"]
    results = run_result["results"]
    queries = run_result["queries"]
    ceiling = results.get("ceiling", {}).get("rps")
    ceiling_cpu_ms = None
    if ceiling and "cpu" in results["ceiling"]:
        c = results["ceiling"]
        ceiling_cpu_ms = 1000 * c["cpu"]["server_cpu_s"] / max(1, c["rps"] * c["cpu"]["seconds"])
    lines = [
        "| path | req/s | p50 ms | p99 ms | SQL/req | of ceiling | server CPU/req | target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    notes = []
    for name, r in results.items():
        path = PATHS_BY_NAME[name]
        # journey_push_after runs on the same server as journey: the same statements.
        q = queries.get("journey" if path.push_after else name, {})
        nq = q.get("queries") if q.get("status") in (200, 201) else None
        if path.kind == "notify_worker":
            continue  # its own table, under "Notifications"
        met, misses = evaluate(db, name, r, ceiling, money_problems(run_result), results)
        label = f"`{name}` {path.note}"
        rounds = r.get("rounds") or []
        if rounds and r.get("interleaved"):
            other = next(n for n in COMPARED if n != name)
            label += f"; {plural(len(rounds), 'round')}, interleaved with `{other}`"
        elif len(rounds) > 1:
            label += f"; {len(rounds)} rounds"
        if "missing" in r:
            lines.append(
                f"| {label} | missing ({r['missing']}) | | | | | | {path.target(db)} | missing |"
            )
            continue
        cpu = r.get("cpu", {})
        if path.kind == "journey":
            done = max(1, r["completed"])
            per_round = (
                f"; rounds {rates_text([x['per_second'] for x in rounds])}"
                if len(rounds) > 1
                else ""
            )
            lines.append(
                f"| {label} | {r['per_second']:.1f} contrib/s ({r['requests_per_second']:.0f}"
                f" req/s{per_round}) | {r['p50_ms'] or 0:.1f} | {r['p99_ms'] or 0:.1f} | "
                f"{nq if nq is not None else ('-' if path.read_back else '?')} / journey | - | "
                f"{1000 * cpu.get('server_cpu_s', 0) / done:.1f} ms | {path.target(db)} | {met} |"
            )
        else:
            served = max(1.0, r["rps"] * cpu.get("seconds", 1))
            fraction = f"{r['rps'] / ceiling:.0%}" if ceiling else "?"
            lines.append(
                f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                f"{nq if nq is not None else '?'} | {fraction} | "
                f"{1000 * cpu.get('server_cpu_s', 0) / served:.2f} ms | {path.target(db)} | "
                f"{met} |"
            )
        if misses:
            bound = bound_by(r, nq, ceiling_cpu_ms)
            notes.append(f"- `{name}` missed: {'; '.join(misses)}. Bounded by: {bound}")
    return "\n".join(lines), notes


def notifications_section(run_result: dict) -> str:
    """Issue 15: what notifications cost the journey, how soon one is readable, and how
    many one process makes and one consumer pushes."""
    results = run_result["results"]
    names = ("notify_worker", "notify_delay", "journey_push_after", "journey_notify_off")
    if not any(n in results for n in names):
        return ""
    load = run_result["load"]
    each = f"{load['warmup']} s warm-up + {load.get('round_seconds', load['duration'])} s each"
    compared = comparison(results)
    if compared and compared["interleaved"]:
        off_text = (
            "`journey_notify_off` is the same journey with `NOTIFICATIONS_ENABLED=false`. The "
            "two run on two servers of their own, started together before the first round (not "
            "on the server that served the paths above: both carry the same history), and are "
            "measured interleaved, off then on, for "
            f"{plural(compared['rounds'], 'round')} ({each}), the consumer stopped through all "
            "of them and pushing the backlog of every `journey_push_after` round after the "
            "last. Each one's figure is its contributions over its measured seconds in all its "
            "rounds (in the table above, p50 is the rounds' median and p99 their highest), and "
            "the target is judged on those two figures; each pair, an on round against the off "
            "round just before it, shows how much this machine's drift moves the comparison."
        )
    else:
        off_text = (
            "`journey_notify_off` is the same journey on a server started with "
            "`NOTIFICATIONS_ENABLED=false`."
        )
        for name in ("journey_push_after", "journey_notify_off"):
            n = len(results.get(name, {}).get("rounds") or [])
            if n > 1:
                off_text += (
                    f" `{name}` was measured in {n} rounds ({each}); its figure is its "
                    "contributions over its measured seconds in all of them."
                )
    rows = [
        "### Notifications",
        "",
        "Push goes to a local FCM fake (bench/fcm.py, the tests' fake in a process of its own) "
        "and every account has one phone, so each notification is pushed once; one consumer "
        "(`manage.py run_huey --no-periodic`) runs beside the server for `notify_worker`, "
        "`notify_delay` and `journey`, on the same 2 cores. `journey_push_after` is the journey "
        "with notifications on and the consumer stopped during the load, started after it to "
        "push the backlog: what the web tier pays, as a deployment with the consumer on "
        "machines of its own (README, Background jobs) would see it. " + off_text,
        "",
        "| measure | figure | target | met |",
        "|---|---|---|---|",
    ]
    header = len(rows)
    off = results.get("journey_notify_off", {})
    for on_name, what, target in (
        (
            "journey_push_after",
            "in-app, push job queued; pushed after the load",
            f"on within {NOTIFY_COST_LIMIT:.0%} of off",
        ),
        ("journey", "in-app, and the consumer and the FCM fake pushing on the same 2 cores", "-"),
    ):
        cost = notify_cost(results, on_name)
        if cost is not None:
            met = ("yes" if cost <= NOTIFY_COST_LIMIT else "no") if target != "-" else "-"
            spread = ""
            off_rounds = len(off.get("rounds") or [])
            if on_name == "journey_push_after" and compared and compared["interleaved"]:
                spread = (
                    f"; {plural(compared['rounds'], 'round')} interleaved: {spread_text(compared)}"
                )
            elif on_name == "journey" and off_rounds > 1:
                spread = f"; off over its {off_rounds} rounds, `journey` once before them"
            rows.append(
                f"| the journey with notifications on (`{on_name}`: {what}) against off "
                f"(`journey_notify_off`) | {results[on_name]['per_second']:.1f} against "
                f"{off['per_second']:.1f} contributions/s ({change(cost)}){spread} | {target} "
                f"| {met} |"
            )
    inproc = results.get("journey_push_after", {}).get("inproc_cpu")
    if inproc:
        rows.append(
            "| the web tier's CPU for one journey, notifications on (push job queued) against "
            "off, in one process switching journey by journey (`python -m bench.inproc "
            f"notify_cpu`, {inproc['journeys']} journeys; the database server's CPU not "
            f"counted) | {inproc['on_ms']:.2f} against {inproc['off_ms']:.2f} ms "
            f"({change(inproc['cost'])} as contributions/s) | - | - |"
        )
    delay = results.get("notify_delay", {})
    if "read_back" in delay:
        rb = delay["read_back"]
        rows.append(
            "| 201 to readable: the funding's author reads `GET /notification/` until the "
            f"contribution shows (`notify_delay`, {delay['per_second']:.1f} contributions/s "
            f"with 16 clients) | p50 {num(rb['p50_ms'])} ms, p99 {num(rb['p99_ms'])} ms, "
            f"max {num(rb['max_ms'])} ms; {rb['read']} read ({rb.get('first_read', '?')} at "
            f"the first read), {rb['unread']} never (within {READ_BACK_SECONDS:.0f} s) | "
            "every notification readable | "
            f"{'no' if rb['unread'] or not rb['read'] else 'yes'} |"
        )
    worker = results.get("notify_worker")
    if worker:
        made, sent = worker["produce"], worker["deliver"]
        rows.append(
            "| in-app notifications made by one process from `contribution_credited` (the "
            "receiver: the row, its push job queued at the commit; `notify_worker`) | "
            f"{made['per_second']:.0f}/s ({num(made['cpu_ms_per_notification'], '.2f')} ms "
            f"CPU each; {made['notifications']} in {made['seconds']:.1f} s) | - | - |"
        )
        rows.append(
            f"| pushes sent by one consumer ({worker['consumer_threads']} threads) to the FCM "
            f"fake, from a backlog (`notify_worker`) | {num(sent['per_second'], '.0f')}/s "
            f"(consumer {num(worker['consumer_cpu_ms_per_push'], '.2f')} ms CPU a push, the "
            f"fake {num(worker['fcm_cpu_ms_per_push'], '.2f')} ms); {sent['sent']} sent in "
            f"{sent['seconds']:.1f} s, {sent['pending']} left | - | - |"
        )
    for name in ("journey", "notify_delay", "journey_push_after"):
        made = results.get(name, {}).get("notify")
        if made:
            n = len(results[name].get("rounds") or [])
            which, rate = f"`{name}`", f"{num(made['per_second'])}/s"
            if n > 1:
                which += f", its {n} rounds together"
                rate += " over their load, warm-up included"
            drained = ""
            drain = results[name].get("drain")
            if drain and results[name].get("rounds"):
                drained = (
                    f"; the backlog pushed after the last round: {drain['sent']} sent in "
                    f"{drain['waited']:.1f} s, {drain['pending']} pending"
                )
            rows.append(
                f"| at the journey's load ({which}): notifications made, their pushes, push "
                f"sent after the notification | {rate} ({made['notifications']}), pushes "
                f"{made['pushes']}, p50 {num(made['push_p50_ms'])} ms, p99 "
                f"{num(made['push_p99_ms'])} ms{drained} | - | - |"
            )
    if len(rows) == header:
        rows = rows[: header - 3]  # no figure to show: no table
    return "\n".join(rows)


def section(run_result: dict) -> str:
    db = run_result["db"]
    seed_info = run_result["seed"]
    counts = seed_info["counts"]
    secs = seed_info["seconds"]
    rows, notes = table(run_result)
    before, after = run_result["money_before"], run_result["money_after"]
    new = (after["contributions"] or 0) - (before["contributions"] or 0)
    approved_left = after["payments_by_state"].get("approved", 0)
    examples = after["mismatched_examples"][:3]
    examples = f", e.g. (id, current, sum) {examples}" if examples else ""
    money = (
        f"sum(contributions) == current_amount for every funding: "
        f"{'yes' if after['mismatched_fundings'] == 0 else 'NO'} "
        f"({after['mismatched_fundings']} of {after['fundings']} fundings differ"
        f"{examples}"
        f"); over goal: {after['over_goal']}; contributions {before['contributions']} -> "
        f"{after['contributions']} (+{new}); payments by state {after['payments_by_state']}"
        f"; approved but not credited: {approved_left}"
    )
    expected = expected_new_contributions(run_result)
    if expected is not None:
        lost = "none lost" if expected == new else f"LOST {expected - new}"
        parts_201 = ", ".join(f"{k} {n}" for k, n in journey_answers(run_result).items())
        probes = (
            "each load's with its probe, one a round for a path measured in rounds"
            if any(r.get("probes", 1) > 1 for r in run_result["results"].values())
            else "each load's with its probe"
        )
        money += (
            f"; journeys answered 201: {expected} ({parts_201}; {probes}), "
            f"new contributions {new}: {lost}"
        )
    server = run_result["server"]
    load = run_result["load"]
    noise = [
        r["cpu"]["other_cpu_s"] / r["cpu"]["seconds"]
        for r in run_result["results"].values()
        if r.get("cpu", {}).get("seconds")
    ]
    noise_text = (
        f"Other processes took {sum(noise) / len(noise):.2f} of the {os.cpu_count()} cores on "
        f"average during the measurements (max {max(noise):.2f})"
        if noise
        else ""
    )
    queries_note = ""
    jq = run_result["queries"].get("journey", {})
    if jq.get("steps"):
        queries_note = "Journey queries per step: " + ", ".join(
            f"{p} {s}: {n}" for p, s, n in jq["steps"]
        )
    off = run_result["queries"].get("journey_notify_off", {})
    if off.get("steps"):
        queries_note += ("; " if queries_note else "") + (
            "with notifications off: "
            + ", ".join(f"{p} {s}: {n}" for p, s, n in off["steps"] if p.startswith("/remit/"))
        )
    parts = [
        f"<!-- db:{db} -->",
        f"## {DB_TITLE[db]} ({run_result['db_version']})",
        "",
        f"Seed: {counts['accounts']} accounts, {counts['follows']} follows "
        f"({counts['mutual_pairs']} mutual pairs), {counts['fundings']} fundings, "
        f"{counts['contributions']} contributions and payments; reset+migrate "
        f"{secs.get('reset_and_migrate', '?')} s, generate {secs['generate']} s, insert "
        f"{secs['insert']} s, total {secs.get('total', '?')} s.",
        f"Server: gunicorn with deploy/gunicorn.conf.py: {server['worker_class']}, "
        f"{server['workers']} workers x {server['threads']} threads, max_requests "
        f"{server['max_requests']}, access log {'on' if server['access_log'] else 'off'}; "
        "DEBUG off. "
        f"Load: {load['tool']}, {load['clients']} "
        f"connections, closed loop, {load['warmup']} s warm-up + {load['duration']} s per path. "
        f"Cores busy before the load (other processes): {run_result['busy_before']:.0%}"
        + (" - NOISY, rerun on a quiet machine." if run_result["busy_before"] > 0.15 else ".")
        + (f" {noise_text}." if noise_text else ""),
        "",
        rows,
        "",
        f"Money check after the load: {money}.",
    ]
    if queries_note:
        parts += ["", queries_note + "."]
    notify = notifications_section(run_result)
    if notify:
        parts += ["", notify]
    parts += ["", "Missed targets:" if notes else "Every measured target met."]
    parts += notes
    parts += [f"<!-- /db:{db} -->"]
    return "\n".join(parts)


def write_results(path: Path, runs: list[dict], info: dict, argv: list[str]) -> None:
    kept: dict[str, str] = {}
    notes = ""
    if path.exists():
        text = path.read_text()
        for db in DB_TITLE:
            start, end = f"<!-- db:{db} -->", f"<!-- /db:{db} -->"
            if start in text and end in text:
                kept[db] = text[text.index(start) : text.index(end) + len(end)]
        # A hand-written analysis (what bounds the misses) survives the next run.
        start, end = "<!-- notes -->", "<!-- /notes -->"
        if start in text and end in text:
            notes = text[text.index(start) : text.index(end) + len(end)]
    for r in runs:
        kept[r["db"]] = section(r)
    head = [
        "# FunSun benchmark results",
        "",
        "Written by `make bench` (`python -m bench`); bench/README.md says what is measured.",
        f"Last run: `{' '.join(['python -m bench', *argv])}` on {info['date']}.",
        "",
        f"Machine: {info['cpu']}, {info['nproc']} cores (nproc), {info['memory']} memory; "
        f"{info['platform']}; load average at the start {' '.join(info['loadavg'])}.",
        f"Versions: Python {info['python']}, Django {info['django']}, DRF {info['drf']}, "
        f"simplejwt {info['simplejwt']}, gunicorn {info['gunicorn']}, psycopg {info['psycopg']}, "
        f"{info['wrk'] or 'no wrk (Python load client)'}.",
        "",
        "Targets: every read >= 50 % of the ceiling's req/s (`ceiling` = /healthz through the "
        "same middleware) with p99 <= 60 ms; user search >= 25 %; the journey >= 60 "
        "contributions/s on PostgreSQL, none lost. `server CPU/req` is the gunicorn processes' "
        "CPU time divided by the answered requests. Notifications (issue 15): the journey with "
        "them on within 10 % of the same journey with them off (the two measured in "
        "interleaved rounds, judged on all the rounds together); every contribution's "
        "notification readable by the author after the 201.",
        "",
    ]
    body = [kept[db] for db in DB_TITLE if db in kept] + ([notes] if notes else [])
    path.write_text("\n".join(head) + "\n" + "\n\n".join(body) + "\n")

"""The journey and notification measurements: one journey, the notified journey with its
drain, the interleaved rounds with notifications off and on, and the notification worker."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.common import PATHS_BY_NAME, PYTHON, merged_errors
from bench.procs import TICK, CpuSample, log, proc_ticks, run_json
from bench.servers import Consumer, FakeFCM, Server
from bench.verdict import (
    NOTIFY_COST_LIMIT,
    change,
    comparison,
    notify_cost,
    num,
    plural,
    spread_text,
)


def measure_journey(
    port: int,
    fixture_path: Path,
    args,
    server_pid: int,
    read_back: bool = False,
    jobs_pids: tuple[int, ...] = (),
    duration: int | None = None,
) -> dict:
    journey = [PYTHON, "-m", "bench.journey", "--port", str(port), "--fixture", str(fixture_path)]
    extra = ["--read-back"] if read_back else []
    duration = args.duration if duration is None else duration
    probe = run_json([*journey, "--once", *extra], timeout=120)
    if not probe["ok"]:
        return {"missing": f"{probe['step']} answered {probe['status']}", "probe": probe}
    cpu = CpuSample(server_pid, jobs_pids)
    result = run_json(
        [
            *journey,
            "--clients",
            str(args.clients),
            "--duration",
            str(duration),
            "--warmup",
            str(args.warmup),
            "--processes",
            str(args.journey_processes),
            *extra,
        ],
        timeout=duration + args.warmup + 240,
    )
    result["cpu"] = cpu.stop()
    return result


# Notification paths run after the reads, in this order: the backlog of notify_worker is gone
# before the journeys; last the journey with notifications on (consumer stopped) and with them
# off, interleaved round by round on two servers up side by side (COMPARED): this machine
# drifts by about 10 % between runs minutes apart, as much as the cost measured.
NOTIFY_ORDER = [
    "notify_worker",
    "notify_delay",
    "journey",
    "journey_push_after",
    "journey_notify_off",
]
# The interleaved comparison (issue 15), in the order of one round: off, then on.
COMPARED = ["journey_notify_off", "journey_push_after"]
# How long the consumer may take to push what a journey left behind before the queue is
# emptied (the next measurement must not carry it); what is left is reported as pending.
DRAIN_SECONDS = 20


def log_journey(db: str, name: str, r: dict) -> None:
    if "missing" in r:
        log(f"{db}: {name} missing ({r['missing']})")
        return
    text = f"{db}: {name}: {r['per_second']:.1f} contributions/s, errors {r['errors']}"
    if "read_back" in r:
        rb = r["read_back"]
        text += (
            f"; readable after p50 {rb['p50_ms'] or 0:.1f} ms, p99 {rb['p99_ms'] or 0:.1f} ms"
            f" ({rb['unread']} never)"
        )
    if "notify" in r:
        n = r["notify"]
        text += f"; notifications {n['notifications']}, pushes {n['pushes']}"
    log(text)


def jobs_pids(consumer: Consumer | None, fcm: FakeFCM | None) -> tuple[int, ...]:
    pids = [consumer.pid] if consumer is not None and consumer.pid else []
    if fcm is not None and fcm.proc is not None:
        pids.append(fcm.proc.pid)
    return tuple(pids)


def drain_or_flush(db: str, env: dict, after: int, timeout: float) -> dict:
    """Wait until the consumer pushed every notification after `after`; empty the queue if
    it could not in `timeout` seconds."""
    drained = run_json(
        [PYTHON, "-m", "bench.notify", "drain", "--notifications", str(after), "--timeout",
         str(timeout)],
        env,
        timeout=timeout + 120,
    )  # fmt: skip
    if drained["pending"]:
        log(f"{db}: {drained['pending']} pushes still pending after {timeout:.0f} s: queue emptied")
        run_json([PYTHON, "-m", "bench.notify", "flush"], env)
    return drained


def notify_window(env: dict, after: int) -> dict:
    return run_json([PYTHON, "-m", "bench.notify", "window", "--notifications", str(after)], env)


def measure_notified_journey(
    db: str, name: str, env: dict, server: Server, fixture_path: Path, args, consumer, fcm
) -> dict:
    """The journey on the server with notifications on, the consumer pushing; then what the
    load made: notifications, their pushes (drained) and the push delays."""
    path = PATHS_BY_NAME[name]
    before = run_json([PYTHON, "-m", "bench.notify", "mark"], env)
    log(f"{db}: {name} ({args.clients} clients, {args.duration} s)")
    r = measure_journey(
        server.port,
        fixture_path,
        args,
        server.proc.pid,
        read_back=path.read_back,
        jobs_pids=jobs_pids(consumer, fcm),
    )
    if "missing" not in r:
        r["drain"] = drain_or_flush(db, env, before["notification"], DRAIN_SECONDS)
        r["notify"] = notify_window(env, before["notification"])
    log_journey(db, name, r)
    return r


def combine(rounds: list[dict], interleaved: bool = False) -> dict:
    """One journey measured in rounds, as one result with the keys of a single measurement:
    contributions/s (and requests/s) are the rounds' total over their total measured seconds;
    counts, errors and CPU are summed (CPU per contribution is over all rounds); p50 is the
    rounds' median and p99 their highest (the latencies themselves are not kept). `rounds`
    keeps each round's result; `probes` counts the probe journeys, one a round."""
    if not rounds:
        return {"rounds": [], "interleaved": interleaved}
    seconds = sum(r["duration"] for r in rounds)
    errors, details = merged_errors(rounds)
    cpu = {key: sum(r["cpu"][key] for r in rounds) for key in rounds[0]["cpu"]}
    cpu["machine_busy"] = sum(r["cpu"]["machine_busy"] * r["cpu"]["seconds"] for r in rounds) / (
        cpu["seconds"] or 1
    )
    p50s = [r["p50_ms"] for r in rounds if r["p50_ms"] is not None]
    p99s = [r["p99_ms"] for r in rounds if r["p99_ms"] is not None]
    completed = sum(r["completed"] for r in rounds)
    return {
        "completed": completed,
        "credited_total": sum(r["credited_total"] for r in rounds),
        "probes": len(rounds),
        "per_second": completed / seconds,
        "requests_per_second": sum(r["requests_per_second"] * r["duration"] for r in rounds)
        / seconds,
        "p50_ms": statistics.median(p50s) if p50s else None,
        "p99_ms": max(p99s) if p99s else None,
        "errors": errors,
        "error_detail": details,
        "retries": sum(r["retries"] for r in rounds),
        "duration": seconds,
        "clients": rounds[0]["clients"],
        "cpu": cpu,
        "rounds": rounds,
        "interleaved": interleaved,
    }


def measure_comparison(
    db: str,
    env: dict,
    servers: dict[str, Server],
    fixture_path: Path,
    args,
    consumer: Consumer | None,
    fcm: FakeFCM | None,
) -> dict[str, dict]:
    """The journey with notifications off and on, each on its own server (`servers`, the
    paths of COMPARED asked for), alternated for --rounds rounds: off, on, off, on... Each
    measurement is a full `measure_journey` (its probe, warm-up and --duration). The consumer
    is stopped through every round; after the last it starts and pushes the backlog of all
    the `journey_push_after` rounds at once. Each path's rounds are `combine`d."""
    names = [n for n in COMPARED if n in servers]
    rounds = max(1, args.rounds)
    push_after = "journey_push_after" in names
    if consumer is not None:
        consumer.stop()
    before = run_json([PYTHON, "-m", "bench.notify", "mark"], env) if push_after else None
    measured: dict[str, list[dict]] = {n: [] for n in names}
    missing: dict[str, dict] = {}
    for i in range(1, rounds + 1):
        for name in names:
            if name in missing:
                continue
            server = servers[name]
            label = f"{name} round {i}/{rounds}"
            log(f"{db}: {label} ({args.clients} clients, {args.round_seconds} s)")
            r = measure_journey(
                server.port,
                fixture_path,
                args,
                server.proc.pid,
                jobs_pids=jobs_pids(consumer, fcm),
                duration=args.round_seconds,
            )
            log_journey(db, label, r)
            if "missing" in r:
                missing[name] = r
            else:
                measured[name].append(r)
    results = {}
    for name in names:
        results[name] = combine(measured[name], interleaved=len(names) > 1)
        if name in missing:
            results[name] |= missing[name]
    if push_after:
        consumer.start()
        on_rounds = measured["journey_push_after"]
        if on_rounds:
            on = results["journey_push_after"]
            # The backlog of every round at once: its drain may take as long as they did.
            timeout = max(DRAIN_SECONDS, rounds * args.round_seconds)
            on["drain"] = drain = drain_or_flush(db, env, before["notification"], timeout)
            log(
                f"{db}: journey_push_after: the backlog of its "
                f"{plural(len(on_rounds), 'round')} pushed after the last: {drain['sent']} "
                f"sent in {drain['waited']:.1f} s, {drain['pending']} pending"
            )
            window = notify_window(env, before["notification"])
            if len(on_rounds) > 1:
                # From the first notification to the last spans the other rounds too: the rate
                # is over the load of its own rounds (warm-up included).
                load_seconds = sum(r["duration"] + args.warmup for r in on_rounds)
                window["span_per_second"] = window["per_second"]
                window["per_second"] = window["notifications"] / load_seconds
                window["load_seconds"] = load_seconds
            on["notify"] = window
    for name in names:
        if "missing" not in results[name]:
            log_journey(
                db, f"{name} ({plural(len(measured[name]), 'round')} together)", results[name]
            )
    compared = comparison(results)
    if compared:
        cost = notify_cost(results)
        log(
            f"{db}: journey_push_after against journey_notify_off, "
            f"{plural(compared['rounds'], 'round')} interleaved: "
            f"{results['journey_push_after']['per_second']:.1f} against "
            f"{results['journey_notify_off']['per_second']:.1f} contributions/s "
            f"({change(cost)}, limit -{NOTIFY_COST_LIMIT:.0%}); {spread_text(compared)}"
        )
    return results


def measure_worker(db: str, env: dict, args, consumer: Consumer, fcm: FakeFCM) -> dict:
    """One process makes in-app notifications from `contribution_credited` for --duration
    seconds (the consumer stopped, so the pushes queue up); then one consumer pushes the
    backlog to the FCM fake. Each side's rate and CPU."""
    consumer.stop()
    produced = run_json(
        [PYTHON, "-m", "bench.notify", "produce", "--duration", str(args.duration)],
        env,
        timeout=args.duration + 300,
    )
    log(
        f"{db}: notify_worker: {produced['notifications']} notifications in "
        f"{produced['seconds']:.1f} s ({produced['per_second']:.1f}/s), "
        f"{produced['push_jobs']} push jobs queued"
    )
    consumer.start()
    cpu = CpuSample(0, jobs_pids(consumer, fcm))
    consumer_ticks = proc_ticks(consumer.pid)
    fcm_ticks = proc_ticks(fcm.proc.pid)
    drained = drain_or_flush(
        db, env, produced["after"]["notification"], max(DRAIN_SECONDS, 2 * args.duration)
    )
    consumer_cpu = (proc_ticks(consumer.pid) - consumer_ticks) / TICK
    fcm_cpu = (proc_ticks(fcm.proc.pid) - fcm_ticks) / TICK
    sent = drained["sent"]
    result = {
        "produce": produced,
        "deliver": drained,
        "consumer_threads": consumer.threads,
        "consumer_cpu_ms_per_push": 1000 * consumer_cpu / sent if sent else None,
        "fcm_cpu_ms_per_push": 1000 * fcm_cpu / sent if sent else None,
        "cpu": cpu.stop(),
    }
    rate = drained["per_second"]
    log(
        f"{db}: notify_worker: {drained['sent']} pushes sent"
        + (f" at {rate:.1f}/s" if rate else "")
        + f", consumer {num(result['consumer_cpu_ms_per_push'], '.2f')} ms CPU a push, "
        f"pending left {drained['pending']}"
    )
    return result

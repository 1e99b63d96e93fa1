"""A lean closed-loop GET load, used for a read path only when wrk is not installed.

`python -m bench.pyload --port P --path /funding/public --clients 16 --duration 15` prints the
same JSON as bench/wrk.lua (requests, percentiles in microseconds, status counts). Clients are
threads spread over a few processes, each on its own keep-alive connection.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import threading
import time

from bench.common import emit


def _client(port, path, headers, start, end_warm, end, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    time.sleep(max(0.0, start - time.time()))
    while time.time() < end:
        began = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (http.client.HTTPException, OSError):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        finished = time.time()
        if end_warm <= finished <= end:
            out["latencies"].append(time.perf_counter() - began)
            out["statuses"][status] = out["statuses"].get(status, 0) + 1
    conn.close()


def _process(n, port, path, headers, start, end_warm, end, queue):
    outs = [{"latencies": [], "statuses": {}} for _ in range(n)]
    threads = [
        threading.Thread(target=_client, args=(port, path, headers, start, end_warm, end, o))
        for o in outs
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=end - time.time() + 60)
    queue.put(outs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    token = os.environ.get("BENCH_TOKEN", "")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    start = time.time() + 1.0
    end_warm = start + args.warmup
    end = end_warm + args.duration
    queue = multiprocessing.Queue()
    sizes = [len(range(p, args.clients, args.processes)) for p in range(args.processes)]
    procs = [
        multiprocessing.Process(
            target=_process, args=(n, args.port, args.path, headers, start, end_warm, end, queue)
        )
        for n in sizes
        if n
    ]
    for p in procs:
        p.start()
    outs = [o for _ in procs for o in queue.get(timeout=end - time.time() + 120)]
    for p in procs:
        p.join(timeout=10)
    latencies = sorted(x for o in outs for x in o["latencies"])
    statuses: dict[str, int] = {}
    for o in outs:
        for code, count in o["statuses"].items():
            statuses[str(code)] = statuses.get(str(code), 0) + count

    def pct(q):
        return int(latencies[min(len(latencies) - 1, round(q / 100 * (len(latencies) - 1)))] * 1e6)

    emit(
        {
            "requests": len(latencies),
            "duration_us": int(args.duration * 1e6),
            "p50_us": pct(50) if latencies else 0,
            "p90_us": pct(90) if latencies else 0,
            "p99_us": pct(99) if latencies else 0,
            "max_us": int(latencies[-1] * 1e6) if latencies else 0,
            "errors": {"status": sum(v for k, v in statuses.items() if not k.startswith("2"))},
            "statuses": statuses,
        }
    )


if __name__ == "__main__":
    main()

"""Load on the read paths: wrk (or the Python client) against the server, and the warm-up
that lets every worker import the app before anything is measured."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

from bench.common import BENCH_DIR, PYTHON
from bench.procs import CpuSample, log, run, run_json


def get(port: int, path: str, token: str = "") -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: installing Debian's package (apt-get install -y wrk)")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], timeout=300, check=False)
    found = shutil.which("wrk")
    if not found:
        log("wrk unavailable: reads use the Python load client (bench/pyload.py)")
    return found


def load_read(port: int, url: str, token: str, args, wrk: str | None, server_pid: int) -> dict:
    env = dict(os.environ, BENCH_TOKEN=token)
    target = f"http://127.0.0.1:{port}{url}"
    if wrk:
        common = [wrk, "-t", str(args.wrk_threads), "-c", str(args.clients), "--timeout", "10s"]
        script = ["-s", str(BENCH_DIR / "wrk.lua")]
        run([*common, "-d", f"{args.warmup}s", *script, target], env, timeout=args.warmup + 60)
        cpu = CpuSample(server_pid)
        result = run_json(
            [*common, "-d", f"{args.duration}s", *script, target],
            env,
            timeout=args.duration + 60,
        )
    else:
        cpu = CpuSample(server_pid)
        result = run_json(
            [
                PYTHON,
                "-m",
                "bench.pyload",
                "--port",
                str(port),
                "--path",
                url,
                "--clients",
                str(args.clients),
                "--duration",
                str(args.duration),
                "--warmup",
                str(args.warmup),
            ],
            env,
            timeout=args.duration + args.warmup + 180,
        )
    result["cpu"] = cpu.stop()
    if wrk:
        result["cpu"]["seconds"] = result["duration_us"] / 1e6
    seconds = result["duration_us"] / 1e6
    ok = sum(n for code, n in result["statuses"].items() if code.startswith("2"))
    return {
        "rps": ok / seconds,
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "requests": result["requests"],
        "statuses": result["statuses"],
        "errors": result["errors"],
        "cpu": result["cpu"],
        "tool": "wrk" if wrk else "pyload",
    }


def warm_server(port: int, args, wrk: str | None) -> None:
    """Load /healthz until the rate settles: every worker imports the app (URL map, views,
    serializers) on its first requests, which takes seconds of CPU on this machine."""
    last = 0.0
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if wrk:
            out = run_json(
                [wrk, "-t", "1", "-c", str(args.clients), "-d", "2s", "-s",
                 str(BENCH_DIR / "wrk.lua"), f"http://127.0.0.1:{port}/healthz"],
                timeout=60,
            )  # fmt: skip
            rate = out["requests"] / 2
        else:
            started = time.monotonic()
            for _ in range(200):
                get(port, "/healthz")
            rate = 200 / (time.monotonic() - started)
        if rate > 0 and last > 0 and abs(rate - last) / max(rate, last) < 0.25:
            break
        last = rate
    log(f"server warm: /healthz at {last:.0f} req/s")

"""The orchestrator's child processes and CPU accounting: running a bounded command,
reading /proc for the CPU each side of a measurement used, stopping a process group."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.common import PG_NAME, ROOT, parse_emitted

TICK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd: list[str], env: dict | None = None, timeout: float = 600) -> str:
    """Run a bounded child; its stdout is returned, a failure stops the benchmark."""
    done = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-5000:])
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}")
    return done.stdout


def run_json(cmd: list[str], env: dict | None = None, timeout: float = 600):
    return parse_emitted(run(cmd, env, timeout))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def proc_ticks(pid: int, with_children: bool = False) -> int:
    """CPU ticks of a process; with its waited-for children's (recycled workers) if asked."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return utime + stime + ((cutime + cstime) if with_children else 0)


def bench_db_pids() -> list[int]:
    """PostgreSQL backends serving the benchmark database (read from /proc, never touched)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            if PG_NAME.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def machine_ticks() -> tuple[int, int]:
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuSample:
    """CPU used by the server, the database, the load generator, the background jobs (the
    consumer and the FCM fake, when running) and everything else."""

    def __init__(self, server_pid: int, jobs_pids: tuple[int, ...] = ()):
        self.server_pid = server_pid
        self.jobs_pids = jobs_pids
        self.start = self._now()

    def _now(self) -> dict:
        busy, total = machine_ticks()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        db_pids = bench_db_pids()
        return {
            "time": time.monotonic(),
            "busy": busy,
            "total": total,
            "server": proc_ticks(self.server_pid, with_children=True)
            + sum(proc_ticks(p) for p in children(self.server_pid)),
            "db": {p: proc_ticks(p) for p in db_pids},
            "load": (usage.ru_utime + usage.ru_stime) * TICK,
            "jobs": sum(proc_ticks(p) for p in self.jobs_pids),
        }

    def stop(self) -> dict:
        end = self._now()
        start = self.start
        seconds = end["time"] - start["time"]
        cores = os.cpu_count() or 1
        db = sum(t - start["db"].get(p, 0) for p, t in end["db"].items()) / TICK
        server = (end["server"] - start["server"]) / TICK
        load = (end["load"] - start["load"]) / TICK
        jobs = (end["jobs"] - start["jobs"]) / TICK
        busy = (end["busy"] - start["busy"]) / max(1, end["total"] - start["total"])
        machine = busy * cores * seconds
        return {
            "seconds": seconds,
            "machine_busy": busy,
            "server_cpu_s": server,
            "db_cpu_s": db,
            "load_cpu_s": load,
            "jobs_cpu_s": jobs,
            "other_cpu_s": max(0.0, machine - server - db - load - jobs),
        }


def stop_group(proc: subprocess.Popen, sig: int, timeout: float = 30) -> None:
    """Stop a child started in its own session: `sig`, then SIGKILL to its group only."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def machine_busy(seconds: float = 2.0) -> float:
    """How busy the cores are with nothing of ours running: other work skews every figure."""
    busy0, total0 = machine_ticks()
    time.sleep(seconds)
    busy1, total1 = machine_ticks()
    return (busy1 - busy0) / max(1, total1 - total0)

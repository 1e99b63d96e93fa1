"""The long-running processes a measurement runs against: gunicorn on the benchmark
database, the local FCM fake and the huey consumer, each in a process group of its own."""

from __future__ import annotations

import contextlib
import os
import runpy
import signal
import subprocess
import time

from bench.common import PYTHON, ROOT, django_env, out_file, parse_emitted
from bench.load import get
from bench.procs import children, free_port, stop_group

GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def server_settings(args) -> dict:
    """What gunicorn will run with: deploy/gunicorn.conf.py, then the command line's flags."""
    conf = runpy.run_path(str(GUNICORN_CONF))
    return {
        "worker_class": args.worker_class or conf.get("worker_class", "sync"),
        "workers": args.workers if args.workers is not None else conf.get("workers", 1),
        "threads": args.threads if args.threads is not None else conf.get("threads", 1),
        "max_requests": (
            args.max_requests if args.max_requests is not None else conf.get("max_requests", 0)
        ),
        # As deployed: the access log goes to stdout, here bench/out/server-<db>.log.
        "access_log": conf.get("accesslog"),
    }


class Server:
    """gunicorn against the benchmark database, in its own process group, bound to 127.0.0.1."""

    def __init__(
        self,
        db: str,
        secret_key: str,
        args,
        fcm_url: str = "",
        notifications: bool = True,
        log_suffix: str = "",
    ):
        self.port = free_port()
        self.env = django_env(
            db,
            secret_key=secret_key,
            port=self.port,
            fcm_url=fcm_url,
            notifications=notifications,
        )
        self.log_path = out_file(f"server-{db}{log_suffix}.log")
        self.cmd = [
            PYTHON,
            "-m",
            "gunicorn",
            "funsun.wsgi",
            "-c",
            str(GUNICORN_CONF),
            "--bind",
            f"127.0.0.1:{self.port}",
        ]
        # Flags override deploy/gunicorn.conf.py only where the command line asked to.
        for flag, value in (
            ("--workers", args.workers),
            ("--threads", args.threads),
            ("--max-requests", args.max_requests),
            ("--worker-class", args.worker_class),
        ):
            if value is not None:
                self.cmd += [flag, str(value)]
        self.settings = server_settings(args)
        self.workers = self.settings["workers"]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.log_file = self.log_path.open("w")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log_path}")
            # Ready when every worker is up (one answering is not enough) and answers.
            if len(children(self.proc.pid)) >= self.workers:
                with contextlib.suppress(OSError):
                    if get(self.port, "/healthz?ready=1")[0] == 200:
                        time.sleep(1.0)  # the last workers finish importing the app
                        return self
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise SystemExit(f"gunicorn did not become ready; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                # Only our own process group: the gunicorn master and its workers.
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log_file.close()
        self.proc = None


class FakeFCM:
    """The local FCM fake (bench/fcm.py) in a process of its own; `base_url` once it serves."""

    def __init__(self, db: str):
        self.stats_path = out_file(f"fcm-{db}.json")
        self.base_url = ""
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> FakeFCM:
        self.stats_path.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench.fcm", "--stats", str(self.stats_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for line in self.proc.stdout:
            if line.startswith("BENCHJSON "):
                self.base_url = parse_emitted(line)["base_url"]
                return self
        self.proc.wait(timeout=10)
        raise SystemExit("the FCM fake (bench/fcm.py) did not start")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            stop_group(self.proc, signal.SIGTERM)
            self.proc.stdout.close()
            self.proc = None


class Consumer:
    """One huey consumer (`manage.py run_huey`, as `make run` starts it) against the benchmark
    database and this run's queue; its periodic jobs off (`--no-periodic`): reconciliation
    over the seeded payments every minute would land at random inside the measurements."""

    def __init__(self, db: str, secret_key: str, fcm_url: str):
        self.env = django_env(db, secret_key=secret_key, fcm_url=fcm_url)
        self.log_path = out_file(f"consumer-{db}.log")
        self.proc: subprocess.Popen | None = None
        self.threads = int(self.env.get("JOBS_WORKERS") or 2)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        if self.proc is not None:
            return
        self.log_file = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [PYTHON, "manage.py", "run_huey", "--no-periodic", "--flush-locks"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        # INT: a job under way finishes (as `make run` stops it).
        stop_group(self.proc, signal.SIGINT)
        self.log_file.close()
        self.proc = None

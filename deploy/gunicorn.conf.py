"""gunicorn settings for FunSun: sync workers, sized from the CPU count.

Used by `make run`, the systemd unit (deploy/systemd/funsun.service) and the container
(Dockerfile). Every value can be overridden from the environment; `--bind` on the command
line wins over GUNICORN_BIND.
"""

import multiprocessing
import os

from gunicorn.http.errors import ParseException

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers, one request at a time each, several per core. The API's requests are short
# and CPU-bound (a feed page is about a millisecond of CPU, the database a fraction of it):
# one process per request in flight lets the kernel hand each new connection to an idle
# worker, and no request waits for another thread to let go of its process's GIL. Measured
# in bench/ at 16 clients on 2 cores: p99 17-48 ms with sync workers against 70-230 ms with
# 5 x 4 gthread workers (keep-alive connections stay with one worker, and a worker's
# threads take turns on the GIL every 5 ms), for the same throughput.
# What a sync worker cannot do is serve others while it waits: a Kakao call (login, Kakao
# Pay ready / approve / cancel; usually well under a second, at most the timeouts below)
# holds its worker. A deployment that waits on Kakao more raises GUNICORN_WORKERS (about 50
# MB each), or sets GUNICORN_THREADS above 1, which switches to gthread workers.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
worker_class = "sync" if threads == 1 else "gthread"
# gthread only. A keep-alive connection stays with the worker that accepted it, and the
# first worker to wake up may accept a whole burst of them (a load test, nginx filling its
# upstream pool): then one process, one core under the GIL, serves every client while the
# others idle. A cap of twice the threads (at least 8) spreads a burst over several workers.
worker_connections = max(8, threads * 2)

# Kakao Pay gives up on its own processing after 11 s and the app waits up to 15 s for it
# (KAKAOPAY_TIMEOUT_SECONDS): a worker busy with an approve call must not be killed first.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5  # gthread only: sync workers close the connection after each answer

# Recycle workers now and then so that a slow leak never grows without bound. Rarely: a
# new worker imports the app on its first requests (slow answers for a moment), and at a
# few hundred requests a second a limit of thousands restarts one every few seconds. The
# jitter keeps the workers from restarting together. (No preload_app: HUP must load new
# code, see deploy/systemd/funsun.service.)
max_requests = 100_000
max_requests_jitter = 10_000

# The heartbeat file on a memory file system: a slow disk must not look like a hung worker.
# (gunicorn creates it with mkstemp and unlinks it at once: a shared folder is safe.)
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# Nothing drives gunicorn through its control socket, and two instances on one host (or
# one user) would fight over the default path.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
# The path without its query string (pg_token travels there) and no request headers except
# the client address the proxy added (tokens travel in Authorization and in bodies).
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


# The master's and the workers' lines in one layout and one time zone, with its offset, like
# the app's own (funsun.logging.ZonedFormatter; without it the master, which never loads the
# settings, writes UTC and the workers the app's zone). "-" is stderr (errors) or stdout
# (access), anything else a file, as with gunicorn's own handlers.
def _handler(target: str, stream: str) -> dict:
    if target == "-":
        return {"class": "logging.StreamHandler", "formatter": "line", "stream": stream}
    return {"class": "logging.FileHandler", "formatter": "line", "filename": target}


logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {
            "()": "funsun.logging.ZonedFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        }
    },
    "handlers": {
        "error": _handler(errorlog, "ext://sys.stderr"),
        "access": _handler(accesslog, "ext://sys.stdout"),
    },
    "root": {"level": "INFO", "handlers": ["error"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}

# Only the local proxy may tell gunicorn the request came over https.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Request limits. gunicorn answers a request over them with its own HTML page (414, 431),
# so behind nginx (deploy/nginx/funsun.conf) nginx's limits are the stricter ones and nginx
# answers first, in JSON: a request line or a header line must fit its 4 KB buffer, below
# the line limits here (gunicorn's defaults; a header line keeps room for the address nginx
# appends to X-Forwarded-For). nginx bounds the bytes of all header lines (16 KB), not their
# number: at 4 bytes a line that is about 4,100 lines, which gunicorn allows rather than its
# default 100 (it buffers at most that many lines of the size below).
limit_request_line = 4094
limit_request_field_size = 8190
limit_request_fields = 4200

# A view may answer before reading the request body: 401 for an expired token on an image
# upload, 404, 413. gunicorn then drains at most 64 KB of what is left and closes the
# connection, cutting nginx off halfway through sending the body; nginx reports that as an
# upstream failure (a 503 to the client) instead of the app's answer, and the mobile app
# refreshes its token only on a 401. So the rest of the body is read here, after the answer
# went out: at most the 12 MB nginx lets through, each read bounded by a short timeout.
_DRAIN_MAX_BYTES = 13 * 1024 * 1024
_DRAIN_READ_TIMEOUT = 5.0


def post_request(worker, req, environ, resp):
    body = getattr(req, "body", None)
    sock = environ.get("gunicorn.socket")
    if body is None or sock is None:
        return
    previous_timeout = sock.gettimeout()
    try:
        sock.settimeout(_DRAIN_READ_TIMEOUT)
        left = _DRAIN_MAX_BYTES
        while left > 0:
            chunk = body.read(min(64 * 1024, left))
            if not chunk:
                break
            left -= len(chunk)
    except (OSError, ValueError, ParseException) as exc:
        # The client went away or stalled: gunicorn closes the connection, as it would.
        worker.log.debug("request body not drained: %r", exc)
    finally:
        try:
            sock.settimeout(previous_timeout)
        except OSError:
            worker.log.debug("socket closed while draining the request body")

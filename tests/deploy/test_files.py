"""The files in deploy/ agree with the code and with each other.

Docker and systemd cannot run here, so their files are checked by reading them: every path
they name exists, every variable they set is one the settings read, every timeout is in the
right order (Kakao Pay 11 s < our Kakao Pay wait < gunicorn < nginx).
"""

import multiprocessing
import os
import re
import runpy
import shlex
import shutil
import subprocess

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

from tests.deploy.conftest import DEPLOY, REPO

pytestmark = pytest.mark.deploy

KAKAO_OWN_TIMEOUT = 11


def settings_env_names() -> set[str]:
    text = (REPO / "funsun" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', text))


def gunicorn_conf(**env) -> dict:
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("GUNICORN_")}
    os.environ.update(env)
    try:
        return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    finally:
        for key in env:
            os.environ.pop(key, None)
        os.environ.update(saved)


def nginx_directive(name: str, text: str | None = None) -> list[str]:
    text = text if text is not None else (DEPLOY / "nginx" / "funsun.conf").read_text()
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, flags=re.MULTILINE)


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)(s|m)?", value.strip())
    assert match, value
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


# --- gunicorn ------------------------------------------------------------------------------


def test_gunicorn_sizes_itself_from_the_cpu_count():
    conf = gunicorn_conf()
    assert conf["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert (conf["worker_class"], conf["threads"]) == ("sync", 1)
    overridden = gunicorn_conf(GUNICORN_WORKERS="3", GUNICORN_THREADS="8")
    assert (overridden["workers"], overridden["threads"]) == (3, 8)
    assert overridden["worker_class"] == "gthread"


def test_timeouts_wait_for_kakao_pay_at_every_layer():
    conf = gunicorn_conf()
    assert KAKAO_OWN_TIMEOUT < settings.KAKAOPAY_TIMEOUT_SECONDS < conf["timeout"]
    assert conf["graceful_timeout"] > KAKAO_OWN_TIMEOUT
    nginx_read = seconds(nginx_directive("proxy_read_timeout")[0])
    assert nginx_read > conf["timeout"], "nginx must not give up before gunicorn does"
    unit = (DEPLOY / "systemd" / "funsun.service").read_text()
    stop = int(re.search(r"^TimeoutStopSec=(\d+)", unit, re.MULTILINE).group(1))
    assert stop > conf["graceful_timeout"], "systemd must let workers finish a payment"


def test_access_logs_carry_no_query_string_and_no_header_but_the_client_address():
    fmt = gunicorn_conf()["access_log_format"]
    assert "%(U)s" in fmt  # the path alone
    for leaky in ("%(r)s", "%(q)s", "%(a)s", "%(f)s", "{authorization}", "{cookie}"):
        assert leaky not in fmt.lower(), leaky
    assert set(re.findall(r"%\(\{([^}]+)\}i\)s", fmt)) <= {"x-forwarded-for"}
    log_format = re.search(
        r"log_format\s+funsun_noquery\s+([^;]+);",
        (DEPLOY / "nginx" / "funsun.conf").read_text(),
        re.DOTALL,
    )
    assert log_format, "nginx must log with the funsun_noquery format"
    for leaky in ("$request ", "$request_uri", "$args", "$query_string", "$http_authorization"):
        assert leaky not in log_format.group(1) + " ", leaky
    for access_log in nginx_directive("access_log"):
        assert access_log.split()[-1] in {"funsun_noquery", "off"}, access_log


# --- nginx ---------------------------------------------------------------------------------


def test_nginx_body_limit_is_the_apps_request_limit():
    (limit,) = nginx_directive("client_max_body_size")
    assert limit.strip() == f"{settings.MAX_REQUEST_BYTES // (1024 * 1024)}m"


def test_nginx_serves_static_and_media_from_the_folders_the_settings_name():
    aliases = dict(
        re.findall(
            r"location\s+(/\w+/)\s*\{\s*alias\s+([^;]+);",
            (DEPLOY / "nginx" / "funsun.conf").read_text(),
        )
    )
    assert aliases[settings.STATIC_URL] == "/srv/funsun/staticfiles/"
    assert aliases[settings.MEDIA_URL] == "/srv/funsun/media/"
    unit = (DEPLOY / "systemd" / "funsun.service").read_text()
    assert "ReadWritePaths=/srv/funsun/media" in unit


def test_nginx_passes_the_proxy_headers_django_trusts():
    conf = (DEPLOY / "nginx" / "funsun.conf").read_text()
    headers = dict(re.findall(r"proxy_set_header\s+(\S+)\s+([^;]+);", conf))
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["Host"] == "$host"
    assert headers["X-Forwarded-Host"] == "$host"
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert "NUM_PROXIES" in settings_env_names()


# --- systemd -------------------------------------------------------------------------------


def test_systemd_units_name_files_that_exist():
    for unit in ("funsun.service", "funsun-jobs.service"):
        text = (DEPLOY / "systemd" / unit).read_text()
        (exec_start,) = re.findall(r"^ExecStart=(.+)$", text, re.MULTILINE)
        argv = shlex.split(exec_start)
        assert argv[0].startswith("/srv/funsun/.venv/bin/")
        assert "WorkingDirectory=/srv/funsun" in text
        for arg in argv[1:]:
            if arg.endswith((".py", ".conf")) or arg == "manage.py":
                assert (REPO / arg).is_file(), f"{unit} runs {arg}, which does not exist"
    service = (DEPLOY / "systemd" / "funsun.service").read_text()
    assert "-c deploy/gunicorn.conf.py" in service
    assert "--bind 127.0.0.1:8000" in service  # the upstream of deploy/nginx/funsun.conf
    assert "server 127.0.0.1:8000;" in (DEPLOY / "nginx" / "funsun.conf").read_text()


def test_jobs_unit_runs_the_consumer_and_reconciliation_is_a_periodic_job():
    service = (DEPLOY / "systemd" / "funsun-jobs.service").read_text()
    assert "manage.py run_huey --flush-locks" in service
    assert "KillSignal=SIGINT" in service  # huey's graceful stop
    assert "Restart=always" in service
    # Reconciliation runs inside the consumer now: no timer of its own.
    assert not list((DEPLOY / "systemd").glob("*.timer"))
    assert "run_huey" in get_commands(), "manage.py has no run_huey command"
    assert "reconcile_payments" in get_commands(), "manage.py has no reconcile_payments command"
    import datetime

    from huey.contrib.djhuey import HUEY

    import fundings.tasks  # noqa: F401
    import payments.tasks  # noqa: F401

    # What the consumer's scheduler would enqueue at any minute.
    due = {task.name for task in HUEY.read_periodic(datetime.datetime(2026, 12, 24, 18, 7))}
    assert {"reconcile_payments", "cancel_stranded_fundings"} <= due


def test_systemd_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    # The units as installed on a host whose checkout is this one.
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/srv/funsun/.venv/bin/", f"{REPO}/.venv/bin/")
        (tmp_path / unit.name).write_text(text.replace("/srv/funsun", str(REPO)))
    if not (REPO / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("no .venv/bin/gunicorn in this checkout")
    done = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        # This machine may run without systemd as PID 1; that is not the units' fault.
        if line.strip()
        and "System has not been booted" not in line
        and "Failed to connect to bus" not in line
    ]
    assert done.returncode == 0 and not problems, "\n".join(problems)
    calendar = subprocess.run(
        [analyze, "calendar", "--iterations=2", "*-*-* *:*:00"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert calendar.returncode == 0, calendar.stderr


# --- container -----------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_builds_from_locked_hashes_and_runs_as_a_user():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    assert "--require-hashes" in runs and "-r /app/requirements.lock" in runs
    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1] not in {"root", "0"}, "the container must not run as root"
    assert f"useradd --system --uid 10001 --gid {users[-1]}" in runs
    # Every requirement in the lock carries hashes (pip refuses the whole file otherwise).
    lock = (REPO / "requirements.lock").read_text()
    pins = re.findall(r"^[A-Za-z0-9_.\-\[\]]+==\S+", lock, re.MULTILINE)
    blocks = re.split(r"^(?=[A-Za-z0-9_.\-\[\]]+==)", lock, flags=re.MULTILINE)[1:]
    assert pins and len(blocks) == len(pins)
    assert all("--hash=sha256:" in block for block in blocks)


# Test and lint tools: development only (requirements-dev.lock), never in production.
DEV_ONLY = {
    "pytest",
    "pytest-django",
    "pytest-timeout",
    "moto",
    "playwright",
    "schemathesis",
    "hypothesis",
    "factory-boy",
    "faker",
    "ruff",
}


def locked(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """A lock file's pins: package name -> (version, its hashes)."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    text = (REPO / name).read_text()
    for block in re.split(r"^(?=[A-Za-z0-9_.\-]+==)", text, flags=re.MULTILINE)[1:]:
        package, version = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", block).groups()
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block))
        assert hashes, f"{name}: {package} has no hash (pip refuses the whole file)"
        pins[re.sub(r"[-_.]+", "-", package.lower())] = (version, hashes)
    return pins


def test_the_image_installs_the_runtime_lock_and_no_test_tool():
    runs = [rest for kw, rest in dockerfile_instructions() if kw in ("RUN", "COPY")]
    assert not [r for r in runs if "requirements-dev" in r], "the image installs test tools"
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert not DEV_ONLY & set(runtime), DEV_ONLY & set(runtime)
    assert DEV_ONLY <= set(dev)
    # Development runs exactly the versions production runs, with the same hashes.
    assert {name: dev[name] for name in runtime} == runtime
    for name in ("django", "gunicorn", "psycopg", "whitenoise", "drf-spectacular-sidecar"):
        assert name in runtime
    # The README's production install uses the runtime lock too.
    makefile = (REPO / "Makefile").read_text()
    runtime_target = re.search(r"^install-runtime:.*?(?=^\S|\Z)", makefile, re.M | re.S)
    assert runtime_target and "-r requirements.lock" in runtime_target.group(0)
    assert "requirements-dev" not in runtime_target.group(0)


def test_no_deploy_file_loads_the_demo_data():
    """The demo accounts share a published password: production never seeds them."""
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            assert "seed_demo" not in path.read_text(errors="replace"), path


def test_dockerfile_copies_and_runs_files_that_exist():
    instructions = dockerfile_instructions()
    for kw, rest in instructions:
        if kw == "COPY":
            *sources, _dest = rest.split()
            for source in sources:
                assert source == "." or (REPO / source).exists(), f"COPY {source}: no such file"
    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    assert "python manage.py collectstatic --noinput" in runs
    # The build-time variables are ones the settings read.
    build_vars = set(re.findall(r"\b([A-Z_]+)=\S+ \\?", runs)) - {"PATH"}
    assert {"DEBUG", "SECRET_KEY", "STATIC_ROOT"} <= build_vars <= settings_env_names()
    entrypoint = dict(instructions)["ENTRYPOINT"]
    assert entrypoint == '["gunicorn", "funsun.wsgi", "-c", "deploy/gunicorn.conf.py"]'
    env = " ".join(rest for kw, rest in instructions if kw == "ENV")
    assert "GUNICORN_BIND=0.0.0.0:8000" in env  # reachable from outside the container
    healthcheck = dict(instructions)["HEALTHCHECK"]
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    # The health check's Host must be allowed: by the settings' default and by compose's.
    assert 'default=["localhost", "127.0.0.1"]' in (REPO / "funsun" / "settings.py").read_text()
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert "127.0.0.1" in compose["services"]["app"]["environment"]["ALLOWED_HOSTS"]
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for private in (".env", "**/.env", ".venv", ".git", "media", "db.sqlite3*"):
        assert private in ignored, f"the build context would carry {private}"


def test_compose_wires_postgresql_and_redis_into_the_app():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    app = services["app"]
    build = app["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    env = app["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert set(env) <= settings_env_names(), set(env) - settings_env_names()
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["migrate"]["entrypoint"][-2:] == ["migrate", "--noinput"]
    assert services["jobs"]["entrypoint"][-3:] == ["manage.py", "run_huey", "--flush-locks"]
    assert services["jobs"]["environment"]["REDIS_URL"] == env["REDIS_URL"]
    assert "reconcile" not in services
    assert app["ports"] == ["127.0.0.1:8000:8000"]


# --- settings per environment ------------------------------------------------------------


def production_settings(**env) -> dict:
    """The settings a production process computes from `env` (a fresh interpreter each)."""
    import json
    import sys

    from tests.deploy.conftest import app_env, run

    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "from django.core.files.storage import storages; d = storages['default']; "
        "print(json.dumps({'cache': s.CACHES['default'], "
        "'storage': type(d).__module__ + '.' + type(d).__name__, "
        "'static': s.STORAGES['staticfiles']['BACKEND'], 'serve_media': s.SERVE_MEDIA, "
        "'num_proxies': s.REST_FRAMEWORK['NUM_PROXIES'], "
        "'endpoint': getattr(s, 'AWS_S3_ENDPOINT_URL', 'unset'), "
        "'url': d.url('funding/a b.png') if s.AWS_STORAGE_BUCKET_NAME else None}))"
    )
    environment = app_env(**{k: v for k, v in env.items() if v is not None})
    for name in [k for k, v in env.items() if v is None]:
        environment.pop(name, None)  # unset: the settings' own default applies
    return json.loads(run([sys.executable, "-c", script], environment))


def test_cache_is_redis_when_redis_url_is_set_and_local_memory_otherwise():
    local = production_settings()
    assert local["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    shared = production_settings(REDIS_URL="redis://127.0.0.1:6379/4", CACHE_KEY_PREFIX="x1")
    assert shared["cache"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert shared["cache"]["LOCATION"] == "redis://127.0.0.1:6379/4"
    assert shared["cache"]["KEY_PREFIX"] == "x1"


def test_object_storage_keeps_site_relative_media_paths():
    disk = production_settings(SERVE_MEDIA=None)
    assert disk["storage"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert disk["serve_media"] is True
    bucket = production_settings(
        AWS_STORAGE_BUCKET_NAME="funsun-media",
        AWS_S3_ENDPOINT_URL="",  # compose passes unset variables as empty strings
        AWS_LOCATION="uploads",
        SERVE_MEDIA=None,
    )
    assert bucket["storage"] == "funsun.storage.MediaPathS3Storage"
    assert bucket["endpoint"] is None
    assert bucket["url"] == "/media/funding/a%20b.png"
    assert bucket["serve_media"] is False


def test_production_static_files_are_hashed_and_proxies_are_not_trusted_by_default():
    default = production_settings()
    assert default["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert default["num_proxies"] == 0
    assert production_settings(NUM_PROXIES="1")["num_proxies"] == 1

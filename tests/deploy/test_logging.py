"""gunicorn from deploy/gunicorn.conf.py: every line of its logs, the master's, the workers'
and the app's, carries its time in one zone with the offset (the app's TIME_ZONE).

Without the shared formatter the master, which never loads the settings, writes the
machine's zone while Django switches the workers to TIME_ZONE.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.conf import settings

from funsun.logging import DEFAULT_TIME_ZONE
from tests.deploy.conftest import app_env, migrated_sqlite, start_gunicorn

pytestmark = pytest.mark.deploy

LINE = re.compile(r"^(\S+) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): ")


def test_the_zone_of_processes_without_settings_is_the_settings_zone():
    assert DEFAULT_TIME_ZONE == settings.TIME_ZONE


def test_every_log_line_has_one_time_zone_with_its_offset(processes, static_root, tmp_path):
    # The machine's zone differs from the app's, as on most servers: UTC.
    env = app_env(
        DATABASE_URL=migrated_sqlite(tmp_path), STATIC_ROOT=static_root, LOG_LEVEL="INFO", TZ="UTC"
    )
    app = start_gunicorn(processes, "gunicorn", tmp_path, env)
    with httpx.Client(base_url=app.base_url, timeout=10) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/no-such-route").status_code == 404  # django.request logs it
    app.stop()

    lines = app.log_path.read_text().splitlines() + app.extra["access_log"].read_text().splitlines()
    loggers, offsets = set(), set()
    for line in filter(None, lines):
        match = LINE.match(line)
        assert match, f"a log line without the common layout: {line!r}"
        moment = datetime.fromisoformat(match.group(1))
        assert moment.utcoffset() is not None, line
        offsets.add(moment.utcoffset())
        loggers.add(match.group(3))
    # The master's lines, the workers', the access log and Django's own, all in one zone.
    assert {"gunicorn.error", "gunicorn.access", "django.request"} <= loggers
    assert offsets == {datetime.now(ZoneInfo(settings.TIME_ZONE)).utcoffset()}

"""The Toss keys are checked before a payment is ever tried: `manage.py check` reports a
missing, misplaced or mixed pair, and a server started with DEBUG off refuses to start."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from payments.checks import check_toss_keys

TEST_SK = "test_sk_abcDEF0123456789"
TEST_CK = "test_ck_abcDEF0123456789"
LIVE_SK = "live_sk_abcDEF0123456789"
LIVE_CK = "live_ck_abcDEF0123456789"


def ids(settings, provider: str, secret: str, client: str) -> list[str]:
    settings.PAYMENT_PROVIDER = provider
    settings.TOSS_SECRET_KEY = secret
    settings.TOSS_CLIENT_KEY = client
    return [message.id for message in check_toss_keys()]


@pytest.mark.parametrize(
    ("provider", "secret", "client", "expected"),
    [
        ("toss", TEST_SK, TEST_CK, []),
        ("toss", LIVE_SK, LIVE_CK, ["payments.W001"]),  # PUBLIC_BASE_URL is plain http here
        ("toss", "", TEST_CK, ["payments.E001"]),
        ("toss", TEST_SK, "", ["payments.E002"]),
        ("toss", "", "", ["payments.E001", "payments.E002"]),
        ("toss", LIVE_SK, TEST_CK, ["payments.E005", "payments.W001"]),
        ("toss", TEST_SK, LIVE_CK, ["payments.E005"]),
        ("toss", TEST_CK, TEST_SK, ["payments.E003", "payments.E004"]),  # swapped
        ("toss", "test_gsk_widget0123", TEST_CK, ["payments.E003"]),  # a widget's key
        ("sandbox", "", "", []),
        ("kakaopay", "", "", []),
        ("sandbox", LIVE_SK, TEST_CK, ["payments.E005"]),  # set, so it must be right
    ],
)
def test_the_keys_are_checked(settings, provider, secret, client, expected):
    assert ids(settings, provider, secret, client) == expected


def test_live_keys_behind_https_are_fine(settings):
    settings.PUBLIC_BASE_URL = "https://api.funsun.example"
    assert ids(settings, "toss", LIVE_SK, LIVE_CK) == []


def test_manage_py_check_refuses_toss_without_keys(settings):
    ids(settings, "toss", "", TEST_CK)
    with pytest.raises(SystemCheckError) as refused:
        call_command("check")
    assert "payments.E001" in str(refused.value)
    ids(settings, "toss", LIVE_SK, TEST_CK)
    with pytest.raises(SystemCheckError) as mixed:
        call_command("check")
    assert "payments.E005" in str(mixed.value)
    ids(settings, "toss", TEST_SK, TEST_CK)
    call_command("check")  # no error


def start(tmp_path, *, debug: bool, command: list[str] | None = None, **keys: str):
    """A fresh process with the real settings, as gunicorn or manage.py would start it."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "funsun.settings",
        "ENV_FILE": os.devnull,
        "DEBUG": "true" if debug else "false",
        "SECRET_KEY": "start-up-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PAYMENT_PROVIDER": "toss",
        **keys,
    }
    argv = command or ["-c", "import django; django.setup(); print('started')"]
    return subprocess.run(
        [sys.executable, *argv],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_server_with_debug_off_refuses_to_start_without_keys(tmp_path):
    missing = start(tmp_path, debug=False, TOSS_CLIENT_KEY=TEST_CK)
    assert missing.returncode != 0
    assert "payments.E001" in missing.stderr and "ImproperlyConfigured" in missing.stderr
    mixed = start(tmp_path, debug=False, TOSS_SECRET_KEY=LIVE_SK, TOSS_CLIENT_KEY=TEST_CK)
    assert mixed.returncode != 0 and "payments.E005" in mixed.stderr
    fine = start(tmp_path, debug=False, TOSS_SECRET_KEY=TEST_SK, TOSS_CLIENT_KEY=TEST_CK)
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout.strip() == "started"


def test_locally_manage_py_check_names_the_problem(tmp_path):
    checked = start(tmp_path, debug=True, command=["manage.py", "check"])
    assert checked.returncode != 0
    assert "payments.E001" in checked.stderr and "payments.E002" in checked.stderr

"""The test suite never reads a developer's `.env` (the one `make run` writes, for instance).

A checkout-like folder gets a copy of the settings modules and a `.env` that turns the
production cookie and HSTS settings off, as `make run` does for plain-http localhost; a fresh
process imports the settings from there. The real settings read that file (the control),
the test settings do not, also when ENV_FILE names it explicitly.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

LOCAL_ENV = """\
SECRET_KEY=local-env-key-not-for-tests-0123456789abcdefghijklmnopqrstuvwxyz
SESSION_COOKIE_SECURE=false
CSRF_COOKIE_SECURE=false
SECURE_HSTS_SECONDS=0
SECURE_SSL_REDIRECT=true
"""

PRINT = (
    "import importlib, sys; s = importlib.import_module(sys.argv[1]); "
    "print(s.__file__, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_SSL_REDIRECT, s.SECRET_KEY.startswith('local-env-key'))"
)


def checkout_with_env(tmp_path: Path) -> Path:
    package = tmp_path / "funsun"
    package.mkdir()
    for name in ("__init__.py", "settings.py", "test_settings.py"):
        shutil.copy(Path(settings.BASE_DIR) / "funsun" / name, package / name)
    (tmp_path / ".env").write_text(LOCAL_ENV)
    return tmp_path


def settings_seen(checkout: Path, module: str, **env: str) -> list[str]:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(checkout), **env}
    done = subprocess.run(
        [sys.executable, "-c", PRINT, module],
        cwd=checkout,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported_from, *values = done.stdout.split()
    # The copies in the temporary checkout were imported, not the project's own.
    assert Path(imported_from).resolve().is_relative_to(checkout.resolve())
    return values


def test_a_local_env_file_does_not_reach_the_test_settings(tmp_path):
    checkout = checkout_with_env(tmp_path)
    # The control: the real settings read the checkout's .env.
    assert settings_seen(checkout, "funsun.settings", DEBUG="false") == [
        "False",
        "False",
        "0",
        "True",
        "True",
    ]
    production_like = ["True", "True", "31536000", "False", "False"]
    assert settings_seen(checkout, "funsun.test_settings") == production_like
    # Not even when the shell names the file.
    named = settings_seen(checkout, "funsun.test_settings", ENV_FILE=str(checkout / ".env"))
    assert named == production_like


def test_this_process_reads_no_env_file():
    assert os.environ["ENV_FILE"] == os.devnull
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_HSTS_SECONDS == 31536000

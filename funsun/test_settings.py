"""Settings for the test suite: the real settings, with a fixed key and a fast hasher."""

import os
import tempfile
from pathlib import Path

# The suite never reads a local settings file: the `.env` that `make run` writes (plain-http
# cookies, no HSTS) or an installation's ENV_FILE would change what the tests see. Set, not
# defaulted, so that an ENV_FILE exported in a developer's shell does not leak in either;
# subprocesses inherit it. A test that wants a settings file starts a process with the real
# settings (DJANGO_SETTINGS_MODULE=funsun.settings) and its own ENV_FILE.
os.environ["ENV_FILE"] = os.devnull
os.environ.setdefault("SECRET_KEY", "test-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DEBUG", "false")
# The test client speaks plain http; tests of the redirect turn it on themselves.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from funsun.settings import *  # noqa: F403
from funsun.settings import BASE_DIR, CACHES, DATABASES, HUEY

# Jobs run inline, in memory, when the transaction that asked for them commits (huey's
# immediate mode): a test sees their outcome at once. Tests of a real consumer start
# `manage.py run_huey` with the real settings.
HUEY = {**HUEY, "immediate": True}
# The accounts' cache as `make run` has it (files; Redis with REDIS_URL), in a folder of this
# test process: parallel runs never clear each other's entries.
if CACHES["accounts"]["BACKEND"].endswith("FileBasedCache"):
    CACHES["accounts"]["LOCATION"] = (
        Path(tempfile.gettempdir()) / f"funsun-test-accounts-{os.getpid()}"
    )
# Tests read the feed right after changing it; fundings/tests/test_public_feed_cache.py
# turns the cache on.
PUBLIC_FEED_CACHE_SECONDS = 0

# Hashing with PBKDF2's full work factor would dominate the suite's run time; MD5 is
# used for accounts the tests create, and PBKDF2 still verifies any other hash.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / ".test-media"
# Static files reach the tests through staticfiles' finders (the live server), never from a
# collected folder; WhiteNoise still wants STATIC_ROOT to exist (else a warning per app load),
# so an empty one outside the checkout.
STATIC_ROOT = Path(tempfile.gettempdir()) / "funsun-test-static"
STATIC_ROOT.mkdir(exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that threads and WAL behave as in production.
    # One file per test process, so that parallel runs never share a database.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"funsun-test-{os.getpid()}.sqlite3")
    }

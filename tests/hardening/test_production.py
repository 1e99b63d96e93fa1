"""Production settings: deploy checks, security headers, no start without a key, no secret
in the repository, no secret in the logs."""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.tests import kakao_server
from funsun.logging import RedactSecretsFilter
from payments.tests.fixtures import SECRET_KEY as KAKAOPAY_SECRET_KEY
from payments.tests.fixtures import buyer_pays, ready
from tests.factories import DEFAULT_PASSWORD, AccountFactory, FundingFactory
from tests.helpers import client_for

REPO = Path(django_settings.BASE_DIR)


def run_django(*argv: str, **env: str) -> subprocess.CompletedProcess:
    """A fresh process with a clean environment: only what is given here (no .env file)."""
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "funsun.settings",
        "ENV_FILE": os.devnull,
        **env,
    }
    return subprocess.run(
        [sys.executable, *argv],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- deploy checks and start-up -----------------------------------------------------------------


def test_deploy_check_is_clean_with_debug_off_and_a_real_key():
    done = run_django(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_deploy_check_does_catch_a_weak_key():
    """The control of the test above: the check is live, a guessable key is reported."""
    done = run_django(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        # Assembled here so that the repository scan below does not take it for a key.
        SECRET_KEY="django-" + "insecure-changeme",
    )
    assert done.returncode != 0
    assert "security.W009" in done.stdout + done.stderr


@pytest.mark.parametrize(
    "argv",
    [("manage.py", "check"), ("-c", "import funsun.wsgi")],
    ids=["manage.py", "wsgi (what gunicorn loads)"],
)
def test_the_server_refuses_to_start_without_a_secret_key(argv):
    done = run_django(*argv, DEBUG="false")
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr
    # Unset means off: no DEBUG at all is production too.
    assert run_django(*argv).returncode != 0
    # Development (DEBUG on) starts with a throw-away key.
    assert run_django(*argv, DEBUG="true").returncode == 0


def test_production_defaults_are_secure():
    printed = run_django(
        "-c",
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_CONTENT_TYPE_NOSNIFF, "
        "s.X_FRAME_OPTIONS, s.SECURE_PROXY_SSL_HEADER, s.REST_FRAMEWORK['NUM_PROXIES'])",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.split() == [
        "False",
        "True",
        "True",
        "True",
        "31536000",
        "True",
        "True",
        "DENY",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "0",
    ]


# --- security headers -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/funding/public", "/account/", "/no-such-route", "/healthz"])
def test_security_headers_on_api_answers(db, path):
    response = APIClient().get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    # HSTS only over https.
    assert "Strict-Transport-Security" not in response


def test_hsts_over_https_as_nginx_forwards_it(db):
    response = APIClient().get("/funding/public", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_plain_http_is_redirected_to_https_but_health_checks_are_not(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = APIClient()  # loads the middleware with the setting on
    redirected = client.get("/funding/public?page=2")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/funding/public?page=2"
    assert client.get("/funding/public", HTTP_X_FORWARDED_PROTO="https").status_code == 204
    assert client.get("/healthz").status_code == 200


def test_cookies_are_secure_only(db, client):
    response = client.get("/admin/login/")
    cookie = response.cookies["csrftoken"]
    assert cookie["secure"] is True
    staff = AccountFactory(is_staff=True, is_superuser=True, email="ops@example.com")
    login = client.post(
        "/admin/login/",
        {"username": staff.email, "password": DEFAULT_PASSWORD, "next": "/admin/"},
    )
    assert login.status_code == 302
    assert login.cookies["sessionid"]["secure"] is True
    assert login.cookies["sessionid"]["httponly"] is True


# --- no secret in the repository ------------------------------------------------------------------

# Values that look like credentials, wherever they are.
SECRET_NAMES = r"[A-Z_]*SECRET[A-Z_]*|PASSWORD|API_KEY|ACCESS_KEY|PRIVATE_KEY"
SECRET_PATTERNS = {
    # NAME = "value", NAME: "value", "NAME": "value" (one line)
    "assigned secret": re.compile(
        rf"""(?i)\b(?:{SECRET_NAMES})\b["']?[ \t]*[:=][ \t]*["']([^"'\s]{{8,}})["']"""
    ),
    # setdefault("NAME", "value") and the like
    "secret argument": re.compile(
        rf"""(?i)["'](?:{SECRET_NAMES})["'][ \t]*,[ \t]*["']([^"'\s]{{8,}})["']"""
    ),
    "django default key": re.compile(r"django-insecure-[\w!@#$%^&*(=+)-]{20,}"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "Kakao Pay secret key": re.compile(r"\b(?:DEV|PRD)[0-9A-F]{30,}\b"),
    "JSON Web Token": re.compile(r"\beyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}"),
}
# A fixed value in a test file must say that it is not a secret (or not ours).
TEST_ONLY = re.compile(r"test|not-|example|fake|dummy", re.I)
# Setting names listed next to each other ("SECRET_KEY", "STATIC_ROOT") are not values.
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")


def is_test_file(path: str) -> bool:
    return "/tests/" in f"/{path}" or path.endswith("test_settings.py")


def tracked_text_files() -> list[tuple[str, str]]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    files = []
    for name in filter(None, listed.decode().split("\0")):
        path = REPO / name
        if not path.is_file():
            continue  # deleted in the working tree
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        files.append((name, data.decode("utf-8", "replace")))
    return files


def test_no_secret_or_default_key_is_committed():
    files = tracked_text_files()
    assert len(files) > 50
    names = [name for name, _ in files]
    assert not [n for n in names if Path(n).name == ".env" or n.endswith(".env")]
    found = []
    for name, text in files:
        for kind, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                value = match.group(match.lastindex or 0)
                if SETTING_NAME.match(value):
                    continue
                if kind in ("assigned secret", "secret argument") and is_test_file(name):
                    # Test passwords are fixtures; a fixed key must be named test-only.
                    if "SECRET" in match.group(0).upper() and not TEST_ONLY.search(value):
                        found.append((name, kind, value))
                    continue
                found.append((name, kind, value))
    assert found == []


def test_the_scan_finds_what_it_looks_for():
    """The control of the scan above, on text that is not committed."""
    # Assembled at run time: committed as they are, they would be findings themselves.
    samples = [
        "SECRET_KEY = " + '"k2#9f$hA8w!pQz7vXc0L"',
        "KAKAOPAY_SECRET_KEY=" + "DEV" + "0123456789ABCDEF" * 2,
        "aws_access_key_id = " + "AKIA" + "IOSFODNN7QWERTY1",
        "-----BEGIN " + "OPENSSH PRIVATE KEY-----",
        "SECRET_KEY = 'django-" + "insecure-0123456789abcdefghijklmnop'",
    ]
    for sample in samples:
        assert any(p.search(sample) for p in SECRET_PATTERNS.values()), sample


# --- no secret in the logs ------------------------------------------------------------------------


@pytest.fixture
def log_output():
    """What the configured console handler (the one with the redaction filter) writes, with
    every logger at DEBUG."""
    root = logging.getLogger()
    console = next(
        handler
        for handler in root.handlers
        if any(isinstance(f, RedactSecretsFilter) for f in handler.filters)
    )
    buffer = io.StringIO()
    previous_stream = console.setStream(buffer)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "urllib3")}
    for name in noisy:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield buffer
    console.setStream(previous_stream)
    root.setLevel(previous_level)
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def kakaopay_fake(settings):
    from payments.tests.fixtures import CID
    from payments.tests.kakaopay_server import FakeKakaoPay

    server = FakeKakaoPay(secret_key=KAKAOPAY_SECRET_KEY, cid=CID).start()
    settings.PAYMENT_PROVIDER = "kakaopay"
    settings.KAKAOPAY_API_BASE_URL = server.base_url
    settings.KAKAOPAY_SECRET_KEY = KAKAOPAY_SECRET_KEY
    settings.KAKAOPAY_CID = CID
    # Generous: every call of this journey must succeed, however busy the machine.
    settings.KAKAOPAY_TIMEOUT_SECONDS = 10.0
    yield server
    server.stop()


def test_logs_never_carry_tokens_passwords_or_bank_accounts(
    db, log_output, kakao, kakaopay_fake, settings
):
    password = "Correct-Horse-Battery-9"
    bank_account = "국민 987-654-321098"
    secrets_seen: list[str] = [password, "987-654-321098", "987654321098", KAKAOPAY_SECRET_KEY]
    api = APIClient()

    signed_up = api.post(
        "/account/signup",
        {"email": "logs@example.com", "password": password, "username": "logs"},
    ).json()
    # A wrong password, then the right one.
    assert api.post("/account/login", {"email": "logs@example.com", "password": "x" + password})
    logged_in = api.post("/account/login", {"email": "logs@example.com", "password": password})
    assert logged_in.status_code == 200
    tokens = logged_in.json()["token"]
    refreshed = api.post("/account/token/refresh", {"refresh": tokens["refresh_token"]}).json()
    secrets_seen += [
        signed_up["token"]["access_token"],
        signed_up["token"]["refresh_token"],
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
    ]
    me = APIClient(HTTP_AUTHORIZATION=f"Bearer {refreshed['access_token']}")
    assert me.put("/account/", {"bank_account": bank_account}).status_code == 200
    assert me.get("/account/?id=nobody").status_code == 404
    # A stale token and a refresh token in the wrong place are logged as failures only.
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Bearer {tokens['refresh_token']}")
        .post("/account/")
        .status_code
        == 401
    )

    kakao_login = api.post("/account/kakaologin", {"accessToken": kakao_server.GOOD_TOKEN})
    assert kakao_login.status_code == 201
    refused = api.post("/account/kakaologin", {"accessToken": "kakao-unknown-token-123"})
    assert refused.status_code == 400
    secrets_seen += [
        kakao_server.GOOD_TOKEN,
        "kakao-unknown-token-123",
        kakao_login.json()["token"]["access_token"],
        kakao_login.json()["token"]["refresh_token"],
    ]

    payer = client_for(AccountFactory())
    funding = FundingFactory(goal_amount=50_000)
    started = ready(payer, 10_000, funding=str(funding.pk), message="축하해")
    pg_token = buyer_pays(started["url"])
    secrets_seen.append(pg_token)
    assert payer.get(f"/remit/kakaopay/approval?pg_token={pg_token}").status_code == 200
    assert payer.post("/remit/kakaopay/approve", {"pg_token": pg_token}).status_code == 200
    assert payer.get("/remit/kakaopay/approve").status_code == 200
    credited = payer.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "축하해"}, format="json"
    )
    assert credited.status_code == 201
    assert me.post("/account/logout", {"refresh": refreshed["refresh_token"]}).status_code == 200

    output = log_output.getvalue()
    assert "payment" in output and "credited" in output  # the journey was logged at all
    leaked = [value for value in secrets_seen if value in output]
    assert leaked == []
    # No token-shaped string at all, whatever it belonged to.
    assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}", output)


def test_the_redaction_filter_cleans_what_a_careless_log_line_would_leak(log_output):
    logger = logging.getLogger("funsun.hardening")
    logger.warning("Authorization: Bearer abc.def.ghi for refresh=xyz123 password=hunter2")
    logger.warning("payload %s", {"bank_account": "국민 111-222-333333", "accessToken": "k-tok"})
    output = log_output.getvalue()
    for value in ("abc.def.ghi", "xyz123", "hunter2", "111-222-333333", "k-tok"):
        assert value not in output
    assert "[redacted]" in output

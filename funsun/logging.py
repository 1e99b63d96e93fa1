"""Logging for every process: one time format, and a filter that keeps tokens, passwords
and bank accounts out of the logs."""

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

# settings.TIME_ZONE, for processes that never load the settings (gunicorn's master).
DEFAULT_TIME_ZONE = "Asia/Seoul"


class ZonedFormatter(logging.Formatter):
    """Times in ISO 8601 with milliseconds and the offset, in the project's time zone.

    logging's own times follow the process's local zone: gunicorn's master runs in the
    machine's (often UTC) while Django switches its workers to TIME_ZONE, so one log would
    mix two zones. Here every process writes the same zone, and says which.
    """

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        from django.conf import settings

        zone = settings.TIME_ZONE if settings.configured else DEFAULT_TIME_ZONE
        moment = datetime.fromtimestamp(record.created, ZoneInfo(zone))
        return moment.isoformat(timespec="milliseconds")


_KEYS = (
    r"(?:access_?token|refresh_?token|refresh|accessToken|password|pg_token|bank_account|secret)"
)
_PATTERNS = [
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+", re.I), r"\1[redacted]"),
    (re.compile(r"(SECRET_KEY\s+)\S+", re.I), r"\1[redacted]"),
    # A quoted value up to its closing quote: a bank account ("국민 123-456") has a space.
    (
        re.compile(rf"({_KEYS}[\"']?\s*[:=]\s*)([\"'])(?:(?!\2).)*\2", re.I),
        r"\1\2[redacted]\2",
    ),
    # An unquoted bank account runs to the end of its field, spaces included.
    # (`\s*+` takes every space before looking: a quoted value redacted above stays as is.)
    (re.compile(r"(bank_account[\"']?\s*[:=]\s*+)(?![\"'\[])[^&,}\n]+", re.I), r"\1[redacted]"),
    (re.compile(rf"({_KEYS}[\"']?\s*[:=]\s*+)(?![\"'\[])[^\"'&\s,}}]+", re.I), r"\1[redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"), "[redacted-jwt]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record must still be logged
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True

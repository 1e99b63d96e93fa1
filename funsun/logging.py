"""A log filter that keeps tokens, passwords and bank accounts out of the logs."""

import logging
import re

_PATTERNS = [
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+", re.I), r"\1[redacted]"),
    (re.compile(r"(SECRET_KEY\s+)\S+", re.I), r"\1[redacted]"),
    (
        re.compile(
            r"((?:access_?token|refresh_?token|refresh|accessToken|password|pg_token|"
            r"bank_account|secret)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+",
            re.I,
        ),
        r"\1[redacted]",
    ),
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

"""System checks of push's configuration (`manage.py check`)."""

from __future__ import annotations

import json

from django.conf import settings
from django.core import checks


@checks.register("notifications")
def check_fcm(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With a credentials file, push needs the project and a readable service account."""
    path = settings.FCM_CREDENTIALS_FILE
    if not path:
        return []
    errors: list[checks.CheckMessage] = []
    if not settings.FCM_PROJECT_ID:
        errors.append(
            checks.Error(
                "FCM_CREDENTIALS_FILE is set but FCM_PROJECT_ID is not.",
                hint="The Firebase project's id (Project settings, General).",
                id="notifications.E001",
            )
        )
    try:
        with open(path, encoding="utf-8") as file:
            account = json.load(file)
    except (OSError, ValueError) as exc:
        errors.append(
            checks.Error(
                f"FCM_CREDENTIALS_FILE cannot be read as JSON ({type(exc).__name__}).",
                hint="A service account's key file (Project settings, Service accounts).",
                id="notifications.E002",
            )
        )
        return errors
    missing = [
        key
        for key in ("type", "client_email", "token_uri", "private_key")
        if not isinstance(account, dict) or not account.get(key)
    ]
    if missing or account.get("type") != "service_account":
        errors.append(
            checks.Error(
                "FCM_CREDENTIALS_FILE is not a service account's key file "
                f"(missing: {', '.join(missing) or 'type service_account'}).",
                id="notifications.E003",
            )
        )
    return errors

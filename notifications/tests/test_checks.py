"""`manage.py check` names a broken push configuration."""

import pytest

from notifications.checks import check_fcm


def ids() -> list[str]:
    return [message.id for message in check_fcm()]


def test_no_push_configured_is_fine(settings):
    settings.FCM_CREDENTIALS_FILE = ""
    assert ids() == []


def test_the_fake_fcm_setup_is_fine(fcm, settings):
    assert ids() == []


def test_a_missing_project(fcm, settings):
    settings.FCM_PROJECT_ID = ""
    assert ids() == ["notifications.E001"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "notifications.E002"),
        ("not json", "notifications.E002"),
        ('{"type": "authorized_user", "client_email": "x"}', "notifications.E003"),
        ("[]", "notifications.E003"),
    ],
)
def test_a_file_that_is_not_a_service_account(settings, tmp_path, content, expected):
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    settings.FCM_CREDENTIALS_FILE = str(path)
    settings.FCM_PROJECT_ID = "p"
    assert ids() == [expected]

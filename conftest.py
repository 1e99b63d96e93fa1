"""Fixtures shared by every app's tests.

The local protocol servers' fixtures (Kakao Login, Kakao Pay and the sandbox, Toss Payments)
are plugins registered here, so that any test asks for them by name (`kakao`, `kakaopay`,
`sandbox`, `toss`) without importing them; helpers are imported from `tests.helpers`.
"""

import shutil

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import AccountFactory
from tests.helpers import client_for

pytest_plugins = [
    "accounts.tests.fixtures",
    "payments.tests.fixtures",
    "payments.tests.toss_fixtures",
]


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test writes uploads into its own folder, removed afterwards."""
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and signed-in accounts live in the caches; no test inherits another's."""
    from django.core.cache import caches

    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def auth_api(account) -> APIClient:
    return client_for(account)


def pytest_collection_modifyitems(config, items):
    """`postgres`-marked tests run only where DATABASE_URL points at PostgreSQL."""
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgres:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)

"""Fixtures shared by every app's tests."""

import shutil

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import AccountFactory


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test writes uploads into its own folder, removed afterwards."""
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits live in the cache; no test inherits another's counters."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(account) -> APIClient:
    """An API client that sends `account`'s access token, as the app does."""
    client = APIClient()
    token = RefreshToken.for_user(account).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


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

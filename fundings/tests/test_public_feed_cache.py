"""The public feed is one page for everyone but staff: kept PUBLIC_FEED_CACHE_SECONDS in
Django's cache, read from there by every viewer, never for staff."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for


@pytest.fixture
def cached(settings):
    settings.PUBLIC_FEED_CACHE_SECONDS = 2
    cache.clear()
    yield
    cache.clear()


def ids(response):
    return [item["id"] for item in response.json()] if response.status_code == 200 else []


def test_every_viewer_reads_the_kept_page_without_a_query(db, cached, django_assert_num_queries):
    first = FundingFactory()
    assert ids(APIClient().get("/funding/public")) == [first.pk]
    FundingFactory()  # not shown until the kept page lapses
    with django_assert_num_queries(0):
        assert ids(APIClient().get("/funding/public")) == [first.pk]
    signed_in = client_for(AccountFactory())
    with django_assert_num_queries(1):  # the token's account, nothing of the feed
        assert ids(signed_in.get("/funding/public")) == [first.pk]
    # Lapsed (the cache forgets it): the new funding shows.
    cache.clear()
    assert len(ids(APIClient().get("/funding/public"))) == 2


def test_the_page_is_kept_for_the_configured_seconds(db, cached, monkeypatch):
    import django.core.cache.backends.locmem as locmem

    now = [1_000_000.0]  # the cache's clock, moved by the test (no waiting)
    monkeypatch.setattr(locmem.time, "time", lambda: now[0])
    first = FundingFactory()
    assert ids(APIClient().get("/funding/public")) == [first.pk]
    assert APIClient().get("/funding/public?page=2").status_code == 204  # kept too
    second = FundingFactory()
    now[0] += 1.9
    assert ids(APIClient().get("/funding/public")) == [first.pk]
    now[0] += 0.2
    assert ids(APIClient().get("/funding/public")) == [second.pk, first.pk]


def test_staff_read_the_database_and_see_withdrawn_fundings(db, cached):
    shown = FundingFactory()
    hidden = FundingFactory(is_hidden=True)
    assert ids(APIClient().get("/funding/public")) == [shown.pk]
    staff = client_for(AccountFactory(is_staff=True))
    assert set(ids(staff.get("/funding/public"))) == {shown.pk, hidden.pk}
    # ... and staff's page is not what others are served.
    assert ids(APIClient().get("/funding/public")) == [shown.pk]


def test_off_reads_every_time(db, settings, django_assert_num_queries):
    settings.PUBLIC_FEED_CACHE_SECONDS = 0
    cache.clear()
    FundingFactory()
    APIClient().get("/funding/public")
    with django_assert_num_queries(1):
        APIClient().get("/funding/public")

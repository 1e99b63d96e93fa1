"""POST /report/: what users may report, duplicates, and the rate limit."""

import threading
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from fundings.models import Contribution
from funsun.api.throttles import AccountRateThrottle
from reports.models import Report
from tests.factories import AccountFactory, FollowFactory, FundingFactory, credited_contribution
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def credit(funding, contributor, amount=5_000, message="Happy birthday!"):
    return credited_contribution(funding, contributor, amount, message=message)


def report(client, type, target, message="please look", **kwargs):
    return client.post(
        "/report/", {"type": type, "target": target, "message": message}, format="json", **kwargs
    )


# --- each type -----------------------------------------------------------------------------


def test_report_a_funding_by_numeric_target(account, auth_api):
    funding = FundingFactory()
    response = report(auth_api, "funding", funding.pk, "스팸입니다")
    assert response.status_code == 201
    body = response.json()
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert set(body) == {"id", "type", "target", "message", "created_on", "is_solved"}
    assert body["type"] == "funding"
    assert body["target"] == str(funding.pk)
    assert body["message"] == "스팸입니다"
    assert body["is_solved"] is False
    assert body["created_on"].endswith("+09:00")
    stored = Report.objects.get(pk=body["id"])
    assert (stored.reporter_id, stored.type, stored.target) == (
        account.pk,
        "funding",
        str(funding.pk),
    )


def test_report_a_funding_by_string_target_in_a_form_body(auth_api):
    funding = FundingFactory()
    response = auth_api.post(
        "/report/", {"type": "funding", "target": str(funding.pk), "message": "x"}
    )
    assert response.status_code == 201
    assert response.json()["target"] == str(funding.pk)


def test_report_an_account(auth_api):
    other = AccountFactory()
    response = report(auth_api, "account", other.pk)
    assert response.status_code == 201
    assert response.json()["target"] == other.pk
    assert Report.objects.filter(type="account", target=other.pk).count() == 1


def test_report_a_contribution_message(auth_api):
    contribution = credit(FundingFactory(), AccountFactory(), message="rude words")
    response = report(auth_api, "remit", str(contribution.pk))
    assert response.status_code == 201
    assert response.json()["type"] == "remit"
    assert response.json()["target"] == str(contribution.pk)


def test_message_may_be_left_out(auth_api):
    funding = FundingFactory()
    response = auth_api.post("/report/", {"type": "funding", "target": funding.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["message"] == ""


def test_a_friends_funding_can_be_reported(account, auth_api):
    friend = AccountFactory()
    FollowFactory(follower=account, followee=friend)
    FollowFactory(follower=friend, followee=account)
    funding = FundingFactory(author=friend, public=False)
    assert report(auth_api, "funding", funding.pk).status_code == 201


# --- bad input and invisible targets ---------------------------------------------------------


def test_report_needs_a_signed_in_account(api):
    funding = FundingFactory()
    response = report(api, "funding", funding.pk)
    assert response.status_code == 401
    assert "detail" in response.json()
    assert not Report.objects.exists()


@pytest.mark.parametrize("bad_type", ["post", "", "FUNDING", None])
def test_unknown_type_is_400(auth_api, bad_type):
    funding = FundingFactory()
    response = report(auth_api, bad_type, funding.pk)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert "type" in response.json()
    assert not Report.objects.exists()


def test_missing_target_is_400(auth_api):
    response = auth_api.post("/report/", {"type": "funding", "message": "x"}, format="json")
    assert response.status_code == 400
    assert "target" in response.json()


@pytest.mark.parametrize(
    "type,target",
    [
        ("funding", 999_999),
        ("funding", "abc"),
        ("funding", "-1"),
        ("funding", "99999999999999999999999"),
        ("account", "no-such-account"),
        ("remit", 999_999),
        ("remit", "1.5"),
    ],
)
def test_unknown_target_is_400(auth_api, type, target):
    response = report(auth_api, type, target)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Report.objects.exists()


def test_a_strangers_friends_only_funding_is_400_like_a_missing_one(auth_api):
    funding = FundingFactory(public=False)
    invisible = report(auth_api, "funding", funding.pk)
    missing = report(auth_api, "funding", 999_999)
    assert invisible.status_code == missing.status_code == 400
    assert invisible.json() == {"detail": f"No funding {funding.pk} to report."}
    assert missing.json() == {"detail": "No funding 999999 to report."}
    assert not Report.objects.exists()


def test_a_hidden_funding_cannot_be_reported(auth_api):
    funding = FundingFactory(is_hidden=True)
    assert report(auth_api, "funding", funding.pk).status_code == 400


def test_a_contribution_to_an_invisible_funding_cannot_be_reported(auth_api):
    contribution = credit(FundingFactory(public=False), AccountFactory())
    assert report(auth_api, "remit", contribution.pk).status_code == 400


def test_a_refunded_contribution_cannot_be_reported(auth_api):
    contribution = credit(FundingFactory(), AccountFactory())
    Contribution.objects.filter(pk=contribution.pk).update(refunded_on=timezone.now())
    assert report(auth_api, "remit", contribution.pk).status_code == 400


def test_yourself_and_deactivated_accounts_cannot_be_reported(account, auth_api):
    gone = AccountFactory(is_active=False)
    assert report(auth_api, "account", account.pk).status_code == 400
    assert report(auth_api, "account", gone.pk).status_code == 400
    assert not Report.objects.exists()


def test_a_message_over_1000_characters_is_400(auth_api):
    funding = FundingFactory()
    response = report(auth_api, "funding", funding.pk, "x" * 1001)
    assert response.status_code == 400
    assert "message" in response.json()


# --- one open report per target --------------------------------------------------------------


def test_a_repeat_report_is_409_and_spelling_the_id_differently_does_not_help(auth_api):
    funding = FundingFactory()
    assert report(auth_api, "funding", funding.pk).status_code == 201
    for target in (funding.pk, str(funding.pk), f"0{funding.pk}", f" {funding.pk} "):
        response = report(auth_api, "funding", target, "again")
        assert response.status_code == 409, target
        assert response.json()["detail"]
    assert Report.objects.count() == 1


def test_others_may_report_the_same_target_and_a_solved_report_may_be_repeated(auth_api):
    funding = FundingFactory()
    assert report(auth_api, "funding", funding.pk).status_code == 201
    assert report(client_for(AccountFactory()), "funding", funding.pk).status_code == 201
    Report.objects.update(is_solved=True)
    assert report(auth_api, "funding", funding.pk).status_code == 201
    assert Report.objects.filter(is_solved=False).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_identical_reports_make_one_report():
    reporter = AccountFactory()
    funding = FundingFactory()
    clients = [client_for(reporter) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def send(client):
        barrier.wait()
        try:
            statuses.append(report(client, "funding", funding.pk).status_code)
        finally:
            # Each thread has its own connection: close it, or the test database stays in use.
            connection.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5
    assert Report.objects.count() == 1


# --- rate limits -----------------------------------------------------------------------------


def test_the_21st_report_within_an_hour_is_429_with_retry_after(account, auth_api):
    fundings = FundingFactory.create_batch(21)
    for funding in fundings[:20]:
        assert report(auth_api, "funding", funding.pk).status_code == 201
    response = report(auth_api, "funding", fundings[20].pk)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["detail"]
    retry_after = int(response["Retry-After"])
    assert 3590 <= retry_after <= 3600
    assert Report.objects.count() == 20
    # The limit is per account: someone else on the same address still gets through.
    assert report(client_for(AccountFactory()), "funding", fundings[20].pk).status_code == 201


def test_refused_requests_count_too(auth_api):
    """Probing for targets with bad ids spends the same budget as real reports."""
    for n in range(20):
        assert report(auth_api, "funding", 10_000_000 + n).status_code == 400
    assert report(auth_api, "funding", FundingFactory().pk).status_code == 429


def test_the_limit_frees_up_an_hour_after_the_oldest_report(auth_api, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(AccountRateThrottle, "timer", lambda self: clock[0])
    fundings = FundingFactory.create_batch(21)
    for funding in fundings[:20]:
        assert report(auth_api, "funding", funding.pk).status_code == 201
        clock[0] += 60
    response = report(auth_api, "funding", fundings[20].pk)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 3600 - 20 * 60


def test_the_per_ip_limit_adds_up_accounts_on_one_address(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"report": "20/hour", "report_ip": "3/hour"},
    }
    funding = FundingFactory()
    for _ in range(3):
        response = report(client_for(AccountFactory()), "funding", funding.pk)
        assert response.status_code == 201
    response = report(client_for(AccountFactory()), "funding", funding.pk)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    # Another address is not affected.
    response = report(client_for(AccountFactory()), "funding", funding.pk, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 201


def _race_the_throttle(n_threads: int, rate: str) -> int:
    view = SimpleNamespace(throttle_scope="race")
    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk="racer"))
    barrier = threading.Barrier(n_threads)
    allowed = []

    def hit():
        throttle = AccountRateThrottle()
        barrier.wait()
        allowed.append(throttle.allow_request(request, view))

    with override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"race": rate}}):
        threads = [threading.Thread(target=hit) for _ in range(n_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return sum(allowed)


def test_concurrent_requests_never_exceed_the_limit():
    assert _race_the_throttle(30, "5/hour") == 5


def _redis_url() -> str | None:
    import os

    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError:
        return None
    return url


def test_concurrent_requests_never_exceed_the_limit_in_redis():
    """Redis is what several app servers share: the same guarantee holds there."""
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis reachable (set REDIS_URL): the shared-cache limit is not tested")
    prefix = f"throttle-test-{threading.get_ident()}-{timezone.now().timestamp()}"
    cache_settings = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=cache_settings):
        try:
            assert caches["default"].__class__.__name__ == "RedisCache"
            assert _race_the_throttle(30, "7/hour") == 7
        finally:
            caches["default"].clear()


def test_the_route_is_in_the_openapi_document(api):
    document = api.get("/swagger.json").json()
    operation = document["paths"]["/report/"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "401", "409", "429"}
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    body = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert set(body["properties"]) == {"type", "target", "message"}
    assert set(body["required"]) == {"type", "target"}

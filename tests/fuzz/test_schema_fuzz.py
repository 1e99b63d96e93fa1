"""Schema fuzzing: schemathesis against our own /swagger.json, in process (WSGI).

Every operation of the document, on a seeded database (tests/hardening/seed.py), signed in
with a real access token of a seeded account. Requests are generated from the document,
both valid ones and invalid ones (wrong types, missing fields, bodies that are not objects).
Every response must:

- never be a 5xx;
- have a documented status code, a documented content type and documented headers;
- match the documented body schema for that status;
- for an operation that requires a token: answer 401 to the same call without the token and
  with a forged one (schemathesis's `ignored_auth`; operations whose document allows
  anonymous calls, `security: [{jwtAuth: []}, {}]`, are exempt by their own document);
- answer 400 to a JSON body that is not an object.

schemathesis's `negative_data_rejection` (any invalid value must be refused) is not applied:
the wire contract (docs/API.md) tells the server to be lenient where that check expects refusals
(numbers as strings and ids as numbers, a bad `page` means page 1, "true"/"false" strings
as booleans, unknown fields ignored), and a multipart form or a query string cannot carry the
non-object values it generates. The strict parts of that rule are the JSON-body check above
and the validation tests of each app.

Run: `.venv/bin/pytest -m fuzz tests/fuzz` (what .ci/stage-fuzz does). Reproducible:
Hypothesis is derandomized, so the same code generates the same requests.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
import schemathesis
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import DataGenerationMethod
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.checks import ignored_auth
from schemathesis.types import NotSet

from accounts.tests import kakao_server
from funsun.wsgi import application
from tests.factories import DEFAULT_PASSWORD
from tests.hardening.seed import seed_world

# Examples per operation and per generation mode; FUZZ_EXAMPLES raises it for a longer run.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def token_required_is_enforced(ctx, response, case):
    """`ignored_auth`, for operations whose document requires a token."""
    security = case.operation.definition.raw.get("security")
    if security is None:
        security = case.operation.schema.raw_schema.get("security", [])
    if {} in security:
        return None  # the document allows anonymous calls: no auth to enforce
    return ignored_auth(ctx, response, case)


def non_object_json_body_is_refused(ctx, response, case):
    """Every JSON body of this API is an object; any other JSON value is a 400."""
    if case.media_type != "application/json" or isinstance(case.body, NotSet):
        return None
    body = case.body
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if not isinstance(body, dict) and response.status_code not in (400, 401, 413, 429):
        raise AssertionError(
            f"{case.operation.verbose_name} answered {response.status_code} to the JSON "
            f"body {body!r}, which is not an object (expected 400)."
        )
    return None


CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    token_required_is_enforced,
    non_object_json_body_is_refused,
)


# Values of the seeded world, by kind, for the generation hooks below (filled by `world`).
SEEDED: dict[str, list] = {}
ID_KINDS = ("account", "funding", "contribution")

# What a field names, per operation: (method, path, field) -> kind. Report targets depend
# on the report's type and are handled apart.
FIELDS = {
    ("GET", "/account/", "id"): "account",
    ("GET", "/follow/", "follower"): "account",
    ("GET", "/follow/", "followee"): "account",
    ("POST", "/follow/", "id"): "account",
    ("DELETE", "/follow/", "id"): "account",
    ("GET", "/funding/user", "id"): "account",
    ("GET", "/funding/", "id"): "funding",
    ("PUT", "/funding/", "id"): "funding",
    ("DELETE", "/funding/", "id"): "funding",
    ("POST", "/funding/review", "id"): "funding",
    ("POST", "/funding/payout", "id"): "funding",
    ("GET", "/remit/", "id"): "funding",
    ("POST", "/remit/", "funding"): "funding",
    ("POST", "/remit/kakaopay/ready", "funding"): "funding",
    ("PUT", "/remit/", "id"): "contribution",
    ("DELETE", "/remit/", "id"): "contribution",
    ("POST", "/funding/", "expire_on"): "expire_on",
    ("POST", "/account/kakaologin", "accessToken"): "kakao_token",
    ("POST", "/account/login", "email"): "email",
    ("POST", "/account/login", "password"): "password",
    ("POST", "/account/signup", "email"): "email",
    ("POST", "/account/signup", "password"): "password",
    ("POST", "/account/token/refresh", "refresh"): "refresh",
    ("POST", "/account/logout", "refresh"): "refresh",
    ("GET", "/payments/sandbox/checkout/{tid}", "tid"): "tid",
    ("POST", "/payments/sandbox/checkout/{tid}", "tid"): "tid",
}
REPORT_TARGETS = {"funding": "funding", "account": "account", "remit": "contribution"}


def _seeded_like(value, kind: str) -> list:
    """Seeded values of `kind`, in the type the generator chose, if it is a usable one."""
    seeded = SEEDED.get(kind, [])
    if kind not in ID_KINDS:
        return list(seeded) if isinstance(value, str) else []
    if isinstance(value, str) and (kind == "account" or value.isdigit()):
        return [str(pk) for pk in seeded]
    if isinstance(value, int) and not isinstance(value, bool):
        return [int(pk) for pk in seeded if str(pk).isdigit()]
    return []


def _aim_at_seeded(context, values):
    """Random ids, tokens and dates almost never name a seeded row or pass the server's
    checks, so the rules behind them (author only, visibility, refunds, sign-in...) would
    go untested: offer seeded values of the right kind beside the generated value, which
    stays possible too (an unknown id must still be a 404)."""
    if not isinstance(values, dict):
        return st.just(values)
    operation = context.operation
    fields = {}
    for name, value in values.items():
        kind = FIELDS.get((operation.method.upper(), operation.path, name))
        choices = _seeded_like(value, kind) if kind else []
        if operation.path == "/report/" and name == "target" and isinstance(value, str):
            # Any string names a target: offer the ids of the report's type as strings.
            kind = REPORT_TARGETS.get(values.get("type"))
            choices = [str(pk) for pk in SEEDED.get(kind, [])] if kind else []
        fields[name] = st.sampled_from([value, *choices]) if choices else st.just(value)
    return st.fixed_dictionaries(fields)


@pytest.fixture
def world(db, settings, kakao):
    """The seeded world, with Kakao Login answered by the local fake (never the real one)."""
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.KAKAO_TIMEOUT_SECONDS = 1.0
    seeded = seed_world()
    owner = seeded.client("owner")
    waiting = owner.post("/remit/kakaopay/ready", {"amount": "3000"})
    assert waiting.status_code == 200
    SEEDED.update(
        account=[a.pk for a in (seeded.owner, seeded.friend, seeded.stranger, seeded.staff)]
        + [seeded.deactivated.pk],
        funding=[f.pk for f in seeded.fundings.values()],
        contribution=[c.pk for c in seeded.contributions.values()],
        expire_on=[(timezone.localtime() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%S.000")],
        kakao_token=[
            kakao_server.GOOD_TOKEN,
            kakao_server.MINIMAL_TOKEN,
            kakao_server.SERVER_ERROR_TOKEN,
            kakao_server.FORBIDDEN_TOKEN,
            kakao_server.MALFORMED_TOKEN,
            kakao_server.NO_ID_TOKEN,
            kakao_server.FLOAT_ID_TOKEN,
        ],
        email=[seeded.owner.email],
        password=[DEFAULT_PASSWORD],
        refresh=[str(RefreshToken.for_user(seeded.owner))],
        tid=[waiting.json()["tid"]],
    )
    yield seeded
    SEEDED.clear()


@pytest.fixture
def api_schema(world):
    """Our document, served by the app, driving requests straight into the WSGI app.

    Django closes the database connection at the end of each request; inside the test's
    transaction that would end the test's database, so the handlers are disconnected for
    the test (Django's own test client does the same around each of its requests, which is
    why the document is fetched first).
    """
    document = APIClient().get("/swagger.json")
    assert document.status_code == 200
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.from_dict(
        document.json(),
        app=application,
        data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
    )
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The filters explicitly None (no filter): schemathesis 3.x warns that filtering arguments
# are deprecated whenever they are left at their default, which is not None.
schema = schemathesis.from_pytest_fixture(
    "api_schema", method=None, endpoint=None, tag=None, operation_id=None
)


@schema.hook
def flatmap_query(context, query):
    return _aim_at_seeded(context, query)


@schema.hook
def flatmap_body(context, body):
    return _aim_at_seeded(context, body)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _aim_at_seeded(context, path_parameters)


@pytest.mark.fuzz
@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, world):
    if case.media_type in FORM_TYPES and not isinstance(case.body, dict | NotSet):
        # A form cannot hold a bare number or list: send the value as the raw body text,
        # which is what a broken client would put on the wire.
        case.body = json.dumps(case.body).encode()
    token = RefreshToken.for_user(world.owner).access_token
    auth = {"Authorization": f"Bearer {token}"}
    # Each example starts from the seeded world (and fresh rate limits, and no account cached
    # from a rolled-back example): a DELETE /account/ must not turn every later example into
    # a 401, nor one example's writes shape the next one's answer. The checks replay calls
    # (without a token), so they are rolled back too.
    with transaction.atomic():
        for each in caches.all():
            each.clear()
        response = case.call(headers=auth)
        # Given the headers, `ignored_auth` knows the token is ours and valid.
        case.validate_response(response, checks=CHECKS, headers=auth)
        transaction.set_rollback(True)

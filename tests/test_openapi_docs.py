"""The OpenAPI document helps a person trying routes in Swagger UI: image routes open on
multipart (the only body type that can carry a file there), and date-times look like the
API's answers, with the +09:00 offset."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

MULTIPART = "multipart/form-data"


@pytest.fixture
def document(db):
    response = APIClient().get("/swagger.json")
    assert response.status_code == 200
    return response.json()


def resolve(document, schema):
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rpartition("/")[2]] if ref else schema


def takes_a_file(document, schema) -> bool:
    schema = resolve(document, schema)
    return any(p.get("format") == "binary" for p in schema.get("properties", {}).values())


def request_bodies(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content")
            if content:
                yield f"{method.upper()} {path}", content


def test_routes_taking_an_image_offer_multipart_first(document):
    with_files = {
        name: list(content)
        for name, content in request_bodies(document)
        if any(takes_a_file(document, body["schema"]) for body in content.values())
    }
    assert {"POST /funding/", "PUT /funding/", "POST /funding/review", "PUT /account/"} <= set(
        with_files
    )
    for name, types in with_files.items():
        assert types[0] == MULTIPART, (name, types)
    # Routes without a file keep their order (a form first, as the app sends them).
    assert next(iter(dict(request_bodies(document))["POST /account/login"])) != MULTIPART


def test_every_date_time_has_an_example_shaped_like_the_answers(document):
    fields = []

    def walk(schema, where):
        if isinstance(schema, dict):
            if schema.get("format") == "date-time":
                fields.append((where, schema.get("example")))
            for key, value in schema.items():
                walk(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for i, value in enumerate(schema):
                walk(value, f"{where}[{i}]")

    walk(document, "")
    assert len(fields) >= 5
    offset = timezone.localtime().utcoffset()
    for where, example in fields:
        assert example, f"{where}: no example"
        moment = datetime.fromisoformat(example)
        assert moment.utcoffset() == offset, (where, example)
        assert example.endswith("+09:00"), (where, example)
    # The expiry example is a valid one to send: in the future, within a year.
    expire_on = document["components"]["schemas"]["FundingCreateRequest"]["properties"][
        "expire_on"
    ]["example"]
    assert timezone.now() < datetime.fromisoformat(expire_on) < timezone.now() + timedelta(days=365)

"""Every money route is in the OpenAPI document with its bodies and status codes."""

import pytest
from rest_framework.test import APIClient

EXPECTED = {
    ("/remit/kakaopay/ready", "post"): {"200", "400", "401", "404", "409", "502"},
    ("/remit/kakaopay/approve", "post"): {"200", "400", "401", "404", "409"},
    ("/remit/kakaopay/approve", "get"): {"200", "400", "401", "404", "409", "502"},
    ("/remit/kakaopay/approval", "get"): {"200"},
    ("/remit/kakaopay/cancel", "get"): {"200"},
    ("/remit/kakaopay/fail", "get"): {"200"},
    ("/remit/", "get"): {"200", "204", "400", "401", "404"},
    ("/remit/", "post"): {"201", "400", "401", "402", "409"},
    ("/remit/", "put"): {"200", "400", "401", "403", "404", "409"},
    ("/remit/", "delete"): {"200", "400", "401", "403", "404", "409", "502"},
}


@pytest.fixture(scope="module")
def document(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/swagger.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("path", "method"), sorted(EXPECTED))
def test_route_is_documented(document, path, method):
    operation = document["paths"][path][method]
    assert EXPECTED[(path, method)] <= set(operation["responses"])


def test_the_sandbox_checkout_page_is_no_api_route(document):
    """A browser page (a Django view with a template), not part of the app's API."""
    assert not any(path.startswith("/payments/sandbox/") for path in document["paths"])


def test_bodies_are_documented(document):
    paths = document["paths"]
    ready = paths["/remit/kakaopay/ready"]["post"]["requestBody"]["content"]
    assert {"application/x-www-form-urlencoded", "multipart/form-data"} <= set(ready)
    remit = paths["/remit/"]["post"]["requestBody"]["content"]
    assert "application/json" in remit
    schema = document["components"]["schemas"][
        remit["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    ]
    assert {"funding", "amount", "message"} <= set(schema["properties"])
    assert (
        "application/x-www-form-urlencoded" in paths["/remit/"]["delete"]["requestBody"]["content"]
    )
    remit_schema = document["components"]["schemas"]["Remit"]
    assert "amount" not in remit_schema["required"]
    assert paths["/remit/kakaopay/approve"]["post"]["requestBody"]["content"]

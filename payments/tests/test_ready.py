"""Step 1's input rules, and the redirect pages."""

import pytest
from rest_framework.test import APIClient

from payments.models import Payment

pytestmark = pytest.mark.django_db


def test_ready_needs_a_token(api):
    assert api.post("/remit/kakaopay/ready", {"amount": "10000"}).status_code == 401
    assert api.post("/remit/kakaopay/approve", {"pg_token": "x"}).status_code == 401
    assert api.get("/remit/kakaopay/approve").status_code == 401


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"amount": "999"},
        {"amount": "1000001"},
        {"amount": "abc"},
        {"amount": "10000", "message": "   "},
        {"amount": "10000", "message": "x" * 256},
    ],
)
def test_ready_refuses_bad_input_with_400(sandbox, auth_api, data):
    response = auth_api.post("/remit/kakaopay/ready", data)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Payment.objects.exists()


def test_ready_refuses_an_empty_json_message(sandbox, auth_api):
    response = auth_api.post(
        "/remit/kakaopay/ready", {"amount": 10000, "message": ""}, format="json"
    )
    assert response.status_code == 400
    assert "message" in response.json()


def test_ready_bounds_are_inclusive(sandbox, auth_api):
    assert auth_api.post("/remit/kakaopay/ready", {"amount": "1000"}).status_code == 200
    assert (
        auth_api.post("/remit/kakaopay/ready", {"amount": 1_000_000}, format="json").status_code
        == 200
    )


def test_pg_token_without_a_ready_payment_is_404(sandbox, auth_api):
    response = auth_api.post("/remit/kakaopay/approve", {"pg_token": "abc"})
    assert response.status_code == 404
    assert auth_api.get("/remit/kakaopay/approve").status_code == 404
    assert auth_api.post("/remit/kakaopay/approve", {}).status_code == 400


def test_pg_token_picks_the_payment_by_tid(sandbox, auth_api):
    first = auth_api.post("/remit/kakaopay/ready", {"amount": "1000"}).json()
    auth_api.post("/remit/kakaopay/ready", {"amount": "2000"})
    assert (
        auth_api.post(
            "/remit/kakaopay/approve", {"pg_token": "tok", "tid": first["tid"]}
        ).status_code
        == 200
    )
    assert Payment.objects.get(tid=first["tid"]).pg_token == "tok"
    assert (
        auth_api.post("/remit/kakaopay/approve", {"pg_token": "t", "tid": "nope"}).status_code
        == 404
    )


@pytest.mark.parametrize("path", ["approval", "cancel", "fail"])
def test_redirect_pages_are_public_html(path):
    response = APIClient().get(f"/remit/kakaopay/{path}", {"pg_token": "<script>"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "<script>" not in response.content.decode()
    # A stray bad token does not turn the page into a 401.
    bad = APIClient(HTTP_AUTHORIZATION="Bearer garbage").get(f"/remit/kakaopay/{path}")
    assert bad.status_code == 200

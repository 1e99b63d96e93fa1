"""The OpenAPI document describes every Account and Follow route as the app calls it."""

import pytest
import yaml

pytestmark = pytest.mark.django_db

FORMS = {"application/x-www-form-urlencoded", "multipart/form-data", "application/json"}

# path -> method -> (request body required?, status codes documented, signs in without auth?)
ROUTES = {
    "/account/kakaologin": {"post": (True, {"200", "201", "400", "403"}, True)},
    "/account/signup": {"post": (True, {"201", "400", "409"}, True)},
    "/account/login": {"post": (True, {"200", "400", "401", "403"}, True)},
    "/account/token/refresh": {"post": (True, {"200", "400", "401"}, True)},
    "/account/logout": {"post": (True, {"200", "400", "401"}, False)},
    "/account/": {
        "get": (False, {"200", "400", "401", "404"}, False),
        "post": (False, {"200", "401"}, False),
        "put": (True, {"200", "400", "401", "413"}, False),
        "delete": (False, {"200", "401"}, False),
    },
    "/account/search": {"get": (False, {"200", "204", "400", "401"}, False)},
    "/follow/": {
        "get": (False, {"200", "204", "400", "401", "404"}, False),
        "post": (True, {"201", "400", "401", "404"}, False),
        "delete": (True, {"200", "400", "401"}, False),
    },
}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/swagger.json")
    assert response.status_code == 200
    return response.json()


def test_the_document_is_openapi_3_with_bearer_auth(schema):
    assert schema["openapi"].startswith("3.")
    scheme = schema["components"]["securitySchemes"]["jwtAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


@pytest.mark.parametrize(
    ("path", "method"), [(p, m) for p, methods in ROUTES.items() for m in methods]
)
def test_every_route_is_documented(schema, path, method):
    has_body, statuses, public = ROUTES[path][method]
    assert set(schema["paths"][path]) - {"parameters"} == set(ROUTES[path])
    operation = schema["paths"][path][method]

    assert statuses <= set(operation["responses"])
    if has_body:
        assert FORMS <= set(operation["requestBody"]["content"])
    else:
        assert "requestBody" not in operation
    if public:
        assert operation.get("security", []) in ([], [{}])
    else:
        assert operation["security"] == [{"jwtAuth": []}]


def component(schema, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_the_wire_shapes_are_described(schema):
    ok = schema["paths"]["/account/kakaologin"]["post"]["responses"]["201"]
    signed_in = component(schema, ok["content"]["application/json"]["schema"]["$ref"])
    user = component(schema, signed_in["properties"]["user"]["$ref"])
    assert set(user["properties"]) == {
        "id", "email", "username", "birthday", "image", "follower", "followee",
        "bank_account", "birthday_type", "gender", "age_range",
    }  # fmt: skip
    put = schema["paths"]["/account/"]["put"]["requestBody"]["content"]["multipart/form-data"]
    fields = component(schema, put["schema"]["$ref"])["properties"]
    assert set(fields) == {
        "username", "birthday", "birthday_type", "bank_account", "image", "image_delete",
    }  # fmt: skip
    assert fields["image"]["format"] == "binary"
    search = schema["paths"]["/account/search"]["get"]
    assert {p["name"] for p in search["parameters"]} == {"username", "page"}
    follow = schema["paths"]["/follow/"]["get"]
    assert {p["name"] for p in follow["parameters"]} == {"follower", "followee", "page"}


@pytest.mark.parametrize("url", ["/swagger.yaml", "/swagger/", "/redoc/"])
def test_the_other_documentation_pages_answer(api, url):
    response = api.get(url)

    assert response.status_code == 200
    if url.endswith(".yaml"):
        document = yaml.safe_load(response.content)
        assert "/account/kakaologin" in document["paths"]

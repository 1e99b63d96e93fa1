"""The OpenAPI document describes every funding route with its bodies and answers."""

import pytest

FUNDING_ROUTES = {
    "/funding/": {
        "get": {"200", "400", "401", "404"},
        "post": {"201", "400", "401", "413"},
        "put": {"200", "400", "401", "403", "404", "413"},
        "delete": {"200", "400", "401", "403", "404", "409"},
    },
    "/funding/review": {"post": {"200", "400", "401", "403", "404", "413"}},
    "/funding/public": {"get": {"200", "204"}},
    "/funding/following": {"get": {"200", "204", "401"}},
    "/funding/user": {"get": {"200", "204", "400", "401", "404"}},
    "/funding/joined": {"get": {"200", "204", "401"}},
}
FORMS = {"multipart/form-data", "application/x-www-form-urlencoded", "application/json"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/swagger.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("path", FUNDING_ROUTES)
def test_every_funding_route_and_status_is_documented(schema, path):
    operations = schema["paths"][path]
    for method, statuses in FUNDING_ROUTES[path].items():
        assert method in operations, f"{method.upper()} {path}"
        assert statuses <= set(operations[method]["responses"]), f"{method.upper()} {path}"


@pytest.mark.parametrize(
    ("path", "method", "fields"),
    [
        ("/funding/", "post", {"title", "content", "goal_amount", "public", "expire_on", "image"}),
        ("/funding/", "put", {"id", "title", "content", "public", "image", "image_delete"}),
        ("/funding/", "delete", {"id"}),
        ("/funding/review", "post", {"id", "review", "review_image"}),
    ],
)
def test_write_bodies_are_documented_for_every_content_type(schema, path, method, fields):
    content = schema["paths"][path][method]["requestBody"]["content"]
    assert set(content) == FORMS
    ref = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][ref]["properties"]
    assert fields <= set(properties)
    if "image" in fields:
        assert properties["image"]["format"] == "binary"


def test_edit_documents_the_ignored_fields(schema):
    description = schema["paths"]["/funding/"]["put"]["description"]
    for name in ("goal_amount", "expire_on", "current_amount", "author", "state"):
        assert name in description


def test_list_answers_are_arrays_of_fundings(schema):
    answer = schema["paths"]["/funding/public"]["get"]["responses"]["200"]
    items = answer["content"]["application/json"]["schema"]["items"]["$ref"]
    funding = schema["components"]["schemas"][items.rsplit("/", 1)[-1]]
    assert {"id", "title", "status", "author", "expire_on", "public"} <= set(funding["properties"])

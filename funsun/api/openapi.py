"""The API docs for the person trying routes in Swagger UI or reading ReDoc.

The docs pages, with a Content-Security-Policy that keeps them self-contained (below), and a
drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]):

- a route that takes an image offers multipart/form-data first, the one body type Swagger
  UI can attach a file with (it opens on the first type listed);
- every date-time field shows an example shaped like the API's answers: ISO 8601 with the
  offset of TIME_ZONE, instead of Swagger UI's own UTC "Z" sample.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

MULTIPART = "multipart/form-data"


def example_datetime() -> str:
    """A date-time as the API writes them ("2026-12-24T18:00:00+09:00"): 18:00 a month from
    today, so that it also works as a funding's expiry when a person sends it."""
    day = timezone.localtime() + timedelta(days=30)
    return day.replace(hour=18, minute=0, second=0, microsecond=0).isoformat()


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref", "")
    return components.get(ref.rpartition("/")[2], {}) if ref else schema


def _takes_a_file(schema: dict, components: dict, seen: frozenset = frozenset()) -> bool:
    ref = schema.get("$ref")
    if ref in seen:
        return False
    schema, seen = _resolve(schema, components), seen | {ref}
    if schema.get("format") == "binary":
        return True
    children = [*schema.get("properties", {}).values(), *schema.get("allOf", [])]
    if isinstance(schema.get("items"), dict):
        children.append(schema["items"])
    return any(_takes_a_file(child, components, seen) for child in children)


def _date_time_examples(schema: Any, example: str) -> None:
    if isinstance(schema, dict):
        if schema.get("format") == "date-time" and "example" not in schema:
            schema["example"] = example
        for value in schema.values():
            _date_time_examples(value, example)
    elif isinstance(schema, list):
        for value in schema:
            _date_time_examples(value, example)


def postprocess(result: dict, generator, request, public) -> dict:
    components = result.get("components", {}).get("schemas", {})
    for path in result.get("paths", {}).values():
        for operation in path.values():
            content = (
                operation.get("requestBody", {}).get("content", {})
                if isinstance(operation, dict)
                else {}
            )
            if MULTIPART in content and _takes_a_file(content[MULTIPART]["schema"], components):
                operation["requestBody"]["content"] = {
                    MULTIPART: content[MULTIPART],
                    **{kind: body for kind, body in content.items() if kind != MULTIPART},
                }
    _date_time_examples(components, example_datetime())
    _date_time_examples(result.get("paths", {}), example_datetime())
    return result


# The API docs pages load everything from this server (drf-spectacular-sidecar); the policy
# makes sure of it in the browser: ReDoc's sidebar asks for its maker's logo from a CDN
# whatever the options (blocked here: ReDoc then leaves the image out). Inline scripts and
# styles are the pages' own (the settings script, styled-components); search runs in a
# blob: worker.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
    ]
)


class SelfContainedDocs:
    """Mixin for the docs views: the Content-Security-Policy above on every page."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


class SwaggerView(SelfContainedDocs, SpectacularSwaggerView):
    pass


class RedocView(SelfContainedDocs, SpectacularRedocView):
    pass

"""DRF's body parsers, refusing what no route needs and what the database cannot store.

Every route's body is a flat object (a form, a multipart form or JSON), so:

- JSON nested deeper than MAX_JSON_DEPTH is refused. Python's decoder recurses once per
  level: about a thousand levels (2 KB of `[`) exhausted the stack, a RecursionError, a 500.
- Text holding NUL is refused, in keys and values alike: PostgreSQL cannot store it (a
  DataError, answered "try again"), and no field of the API has a use for it. JSON can also
  carry an unpaired surrogate (`"\\ud800"`), which no database encoding (UTF-8) can hold.

Both answer 400 `{"detail": ...}` through the exception handler, before any view or
throttle reads a value. The path, the query string and the forms of views outside DRF
(the admin) are checked by funsun.middleware.UnstorableTextMiddleware.
"""

import json
import re

from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

# Bodies are flat objects; a list of ids would be 2 levels. Generous, and far below the
# interpreter's recursion limit, so that nothing downstream (serializers, the exception
# handler, the renderer) recurses near it either.
MAX_JSON_DEPTH = 32

TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted."
UNSTORABLE = "Text may not contain NUL characters or unpaired surrogates."

# A NUL or a surrogate reaches a decoded string only through a \u escape (raw control
# characters are invalid JSON, raw surrogates invalid UTF-8): only a body holding such an
# escape needs its strings looked at. Valid pairs (an emoji written as two escapes) match
# too; they decode to one character and pass.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")


def has_unstorable_text(text: str) -> bool:
    return _UNSTORABLE_CHAR.search(text) is not None


def has_unstorable_field(data: QueryDict) -> bool:
    """Whether a field name or value of a form (a query string, URL-encoded or multipart
    fields) holds unstorable text."""
    return any(
        has_unstorable_text(key)
        or any(isinstance(value, str) and has_unstorable_text(value) for value in values)
        for key, values in data.lists()
    )


def _refuse_deep_or_unstorable(data, *, check_text: bool) -> None:
    """Walk the decoded JSON a level at a time (never recursively: it may be deep)."""
    level, depth = [data], 0
    while level:
        depth += 1  # of the containers in `level`: the body itself is 1
        below = []
        for value in level:
            if isinstance(value, dict | list):
                if depth > MAX_JSON_DEPTH:
                    raise ParseError(TOO_DEEP)
                if isinstance(value, list):
                    below.extend(value)
                    continue
                if check_text and any(has_unstorable_text(key) for key in value):
                    raise ParseError(UNSTORABLE)
                below.extend(value.values())
            elif check_text and isinstance(value, str) and has_unstorable_text(value):
                raise ParseError(UNSTORABLE)
        level = below


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:
            # Deeper than the stack allows: refused without a traceback.
            raise ParseError(TOO_DEEP) from exc
        check_text = _SUSPECT_ESCAPE.search(text) is not None
        # Fewer brackets than the limit (in strings too: an overcount is safe) cannot nest
        # past it: an ordinary body is not walked at all.
        if check_text or text.count("[") + text.count("{") > MAX_JSON_DEPTH:
            _refuse_deep_or_unstorable(data, check_text=check_text)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if has_unstorable_field(data):
            raise ParseError(UNSTORABLE)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        # File names are never stored (uploads get fresh random names); the fields are.
        if has_unstorable_field(parsed.data):
            raise ParseError(UNSTORABLE)
        return parsed

from rest_framework.renderers import JSONRenderer


class UTF8JSONRenderer(JSONRenderer):
    """JSON that names its charset: the app decodes a bare `application/json` as Latin-1."""

    charset = "utf-8"

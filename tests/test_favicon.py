"""/favicon.ico, which every browser asks for, is a small icon served by WhiteNoise from
funsun/public/ (WHITENOISE_ROOT): no 404, and no "Not Found" line in the logs for it."""

import logging

from django.conf import settings
from PIL import Image


def test_the_favicon_is_an_icon(client, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    assert 0 < len(body) < 16 * 1024
    assert "favicon" not in caplog.text
    with Image.open(settings.WHITENOISE_ROOT / "favicon.ico") as icon:
        assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]

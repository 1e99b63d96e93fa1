"""Hostile uploads through PUT /account/ (profile image) and POST /funding/ (funding image).

Each is refused with a 4xx and `{"detail": ...}`, or stored cleaned (re-encoded: no
metadata, no trailing payload, our own extension). Either way nothing is left half-stored:
MEDIA_ROOT is listed before and after (the root conftest gives each test its own).
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.utils import timezone
from PIL import Image

from tests.factories import image_bytes

# --- hostile files ----------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header claiming width x height RGB pixels, with a few bytes of pixel data:
    what a decompression bomb looks like before anyone inflates it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + png_chunk(b"IEND", b"")
    )


def gif_declaring(width: int, height: int) -> bytes:
    data = bytearray(image_bytes("GIF", (8, 8)))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def jpeg_declaring(width: int, height: int) -> bytes:
    data = bytearray(image_bytes("JPEG", (8, 8)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
    b"<script>alert(document.cookie)</script></svg>"
)
SCRIPT = b"alert(document.domain)"


def gif_js_polyglot() -> bytes:
    """A valid GIF that is also JavaScript: the width bytes open a comment ("/*") and the
    script follows the GIF's trailer."""
    data = bytearray(image_bytes("GIF", (8, 8)))
    data[6:8] = b"/*"
    return bytes(data) + b"*/=" + SCRIPT + b";//"


def png_with_html_appended() -> bytes:
    return image_bytes("PNG", (8, 8)) + HTML


def photo_with_gps(fmt: str) -> bytes:
    """A photo from a phone: maker, GPS position, rotated by the Orientation tag."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "orange").save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


# --- the two upload routes ----------------------------------------------------------------


def upload_profile_image(client, data: bytes, name: str, content_type: str):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return client.put("/account/", {"image": upload}, format="multipart")


def upload_funding_image(client, data: bytes, name: str, content_type: str, **fields):
    expire_on = (timezone.localtime() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.000")
    form = {
        "title": "A gift",
        "content": "",
        "goal_amount": "50000",
        "public": "true",
        "expire_on": expire_on,
        "image": SimpleUploadedFile(name, data, content_type=content_type),
        **fields,
    }
    return client.post("/funding/", form, format="multipart")


ROUTES = {"profile": upload_profile_image, "funding": upload_funding_image}


def stored(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def image_of(response, route: str) -> str:
    return response.json()["image"]


# --- refused -----------------------------------------------------------------------------------

REFUSED = [
    ("png-bomb-20000x20000", png_declaring(20_000, 20_000), "bomb.png", "image/png", 400),
    ("png-48-megapixels", png_declaring(8_000, 6_000), "big.png", "image/png", 400),
    ("gif-65535x65535", gif_declaring(65_535, 65_535), "huge.gif", "image/gif", 400),
    ("jpeg-65500x65500", jpeg_declaring(65_500, 65_500), "huge.jpg", "image/jpeg", 400),
    ("html-renamed-png", HTML, "cat.png", "image/png", 400),
    ("svg-renamed-png", SVG, "cat.png", "image/png", 400),
    ("svg-as-svg", SVG, "cat.svg", "image/svg+xml", 400),
    ("empty-file", b"", "empty.png", "image/png", 400),
    ("truncated-png", image_bytes("PNG", (64, 64))[:60], "cut.png", "image/png", 400),
    ("over-10-mb", b"\x89PNG" + b"\x00" * (10 * 1024 * 1024 + 1), "big.png", "image/png", 413),
]


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize(
    ("data", "name", "content_type", "status"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_hostile_files_are_refused_and_nothing_is_stored(
    auth_api, account, settings, route, data, name, content_type, status
):
    before = stored(settings)
    started = time.monotonic()
    response = ROUTES[route](auth_api, data, name, content_type)
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    # Refused from the header: nothing was inflated.
    assert time.monotonic() - started < 5
    assert stored(settings) == before
    account.refresh_from_db()
    assert not account.image
    assert not account.fundings.exists()


# --- cleaned -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_gif_javascript_polyglot_is_stored_without_its_script(auth_api, settings, route):
    response = ROUTES[route](auth_api, gif_js_polyglot(), "cat.png", "image/png")
    assert response.status_code in (200, 201), response.content
    # Our extension from what the file is, never the client's name.
    assert image_of(response, route).endswith(".gif")
    [path] = stored(settings)
    content = path.read_bytes()
    assert SCRIPT not in content
    with Image.open(path) as image:
        assert image.format == "GIF"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_html_after_a_real_png_is_dropped(auth_api, settings, route):
    response = ROUTES[route](auth_api, png_with_html_appended(), "cat.html", "text/html")
    assert response.status_code in (200, 201), response.content
    assert image_of(response, route).endswith(".png")
    [path] = stored(settings)
    assert b"<script>" not in path.read_bytes()


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_photo_metadata_with_gps_is_stripped_on_save(auth_api, settings, route, fmt):
    original = photo_with_gps(fmt)
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(0x8825)  # the upload does carry a position
    response = ROUTES[route](auth_api, original, "photo.bin", "application/octet-stream")
    assert response.status_code in (200, 201), response.content
    [path] = stored(settings)
    content = path.read_bytes()
    with Image.open(path) as image:
        assert image.format == fmt
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
        # The orientation was applied before the tag went away: the photo stands upright.
        assert image.size == (20, 40)
    assert b"PhoneMaker" not in content
    assert b"Exif" not in content


def test_an_animated_gif_keeps_its_frames(auth_api, settings):
    frames = [Image.new("RGB", (12, 12), (40 * i, 0, 0)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300, 400],
        loop=0,
        comment=b"<script>alert(1)</script>",
    )
    response = upload_profile_image(auth_api, out.getvalue(), "anim.gif", "image/gif")
    assert response.status_code == 200, response.content
    [path] = stored(settings)
    with Image.open(path) as image:
        assert image.n_frames == 4
        assert image.info.get("loop") == 0
        assert "comment" not in image.info
    assert b"<script>" not in path.read_bytes()


def test_an_animation_past_the_pixel_budget_is_refused(auth_api, settings):
    # 200 frames of 500 x 500: each small, 50 megapixels in all.
    frames = [Image.new("L", (500, 500), i % 256).convert("P") for i in range(200)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    response = upload_profile_image(auth_api, out.getvalue(), "long.gif", "image/gif")
    assert response.status_code == 400
    assert "megapixels" in response.json()["detail"]
    assert stored(settings) == []


# --- nothing half-stored when the write fails -----------------------------------------------


def fail_on(statement: str):
    """A database wrapper (Django's execute_wrapper hook) that loses the database on one
    statement, as a server going away in the middle of a request would."""

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(statement.upper()):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def test_a_funding_whose_row_is_not_written_leaves_no_image(auth_api, account, settings):
    with connection.execute_wrapper(fail_on('INSERT INTO "fundings_funding"')):
        response = upload_funding_image(auth_api, image_bytes("PNG"), "gift.png", "image/png")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert isinstance(response.json()["detail"], str)
    assert stored(settings) == []
    assert not account.fundings.exists()


def test_a_profile_whose_row_is_not_written_leaves_no_image(auth_api, account, settings):
    with connection.execute_wrapper(fail_on('UPDATE "accounts_account"')):
        response = upload_profile_image(auth_api, image_bytes("PNG"), "me.png", "image/png")
    assert response.status_code == 503
    assert stored(settings) == []
    account.refresh_from_db()
    assert not account.image


def test_an_invalid_field_beside_a_valid_image_leaves_no_image(auth_api, account, settings):
    response = upload_funding_image(
        auth_api, image_bytes("PNG"), "gift.png", "image/png", title="x" * 51
    )
    assert response.status_code == 400
    assert "title" in response.json()
    assert stored(settings) == []

"""Profile images through PUT /account/: checked, cleaned, stored under random names."""

import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve
from PIL import Image

from accounts.models import Account
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees to display
    out = io.BytesIO()
    Image.new("RGB", (32, 16), "red").save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def noisy(fmt: str, size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, format=fmt)
    return out.getvalue()


def served_media_root(settings) -> Path:
    """The folder the /media/ route reads: MEDIA_ROOT now (funsun.views.serve_media), or the
    MEDIA_ROOT the URL map captured when it was imported (django.views.static.serve with a
    fixed document_root, which misses the per-test MEDIA_ROOT of conftest.py)."""
    return Path(resolve("/media/probe").kwargs.get("document_root") or settings.MEDIA_ROOT)


def put_image(client, data: bytes, **kwargs):
    return client.put("/account/", {"image": upload(data, **kwargs)}, format="multipart")


def test_a_jpeg_is_stored_under_a_random_name_without_exif_and_served(
    account, auth_api, api, settings
):
    settings.MEDIA_ROOT = served_media_root(settings)
    before = set(stored_files(settings))
    try:
        check_jpeg_is_cleaned_and_served(account, auth_api, api, settings, before)
    finally:
        for path in set(stored_files(settings)) - before:
            path.unlink()


def check_jpeg_is_cleaned_and_served(account, auth_api, api, settings, before):
    original = jpeg_with_exif()
    assert b"SecretCam" in original

    response = put_image(auth_api, original, name="../../me.php.jpg", content_type="text/plain")

    assert response.status_code == 200
    url = response.json()["image"]
    assert url.startswith("/media/account/") and url.endswith(".jpg")
    assert "me.php" not in url
    [path] = set(stored_files(settings)) - before
    assert path.parent == Path(settings.MEDIA_ROOT) / "account"
    assert url == f"/media/account/{path.name}"
    stored = path.read_bytes()
    assert b"SecretCam" not in stored
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert image.size == (16, 32)  # orientation applied before the EXIF was dropped
    account.refresh_from_db()
    assert account.image.name == f"account/{path.name}"
    served = api.get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == stored


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp")])
def test_other_image_formats_keep_their_kind(auth_api, settings, fmt, ext):
    response = put_image(auth_api, image_bytes(fmt, (8, 8)), name="x.bin")

    assert response.status_code == 200
    assert response.json()["image"].endswith(f".{ext}")
    [path] = stored_files(settings)
    with Image.open(path) as image:
        assert image.format == fmt


def test_a_new_image_replaces_and_deletes_the_old_file(
    auth_api, settings, django_capture_on_commit_callbacks
):
    first = put_image(auth_api, image_bytes("PNG")).json()["image"]
    [old_path] = stored_files(settings)

    with django_capture_on_commit_callbacks(execute=True):
        second = put_image(auth_api, image_bytes("JPEG")).json()["image"]

    assert second != first
    [new_path] = stored_files(settings)
    assert new_path != old_path
    assert not old_path.exists()


def test_image_delete_removes_the_image_and_its_file(
    account, auth_api, settings, django_capture_on_commit_callbacks
):
    put_image(auth_api, image_bytes("PNG"))
    assert len(stored_files(settings)) == 1

    kept = auth_api.put("/account/", {"image_delete": "", "username": "x"}, format="multipart")
    assert kept.json()["image"] is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.put("/account/", {"image_delete": "delete"}, format="multipart")

    assert response.status_code == 200
    assert response.json()["image"] is None
    assert stored_files(settings) == []
    account.refresh_from_db()
    assert not account.image


def test_deleting_the_account_deletes_its_image_file(
    auth_api, settings, django_capture_on_commit_callbacks
):
    put_image(auth_api, image_bytes("PNG"))

    with django_capture_on_commit_callbacks(execute=True):
        assert auth_api.delete("/account/").status_code == 200

    assert stored_files(settings) == []


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def fifty_megapixels() -> bytes:
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, format="PNG")  # tiny file, huge image
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "status", "detail"),
    [
        (lambda: b"just some text, not an image", 400, "image: not a valid image file."),
        (lambda: truncated(noisy("PNG")), 400, "image: not a valid image file."),
        (lambda: truncated(noisy("JPEG")), 400, "image: not a valid image file."),
        (lambda: noisy("BMP", (8, 8)), 400, "image: only JPEG, PNG, WebP or GIF"),
        (fifty_megapixels, 400, "image: more than 40 megapixels."),
        (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * (11 * 1024 * 1024), 413, "image: larger than"),
    ],
    ids=["text", "truncated-png", "truncated-jpeg", "bmp", "50-megapixels", "11-mb"],
)
def test_bad_uploads_are_refused_and_nothing_changes(
    account, auth_api, settings, make, status, detail
):
    put_image(auth_api, image_bytes("PNG"))
    before_files = stored_files(settings)
    before = Account.objects.filter(pk=account.pk).values().get()

    response = auth_api.put(
        "/account/",
        {"image": upload(make(), name="pic.png"), "username": "should not stick"},
        format="multipart",
    )

    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)
    assert stored_files(settings) == before_files
    assert Account.objects.filter(pk=account.pk).values().get() == before


def test_an_empty_file_is_refused(auth_api, settings):
    response = auth_api.put("/account/", {"image": upload(b"")}, format="multipart")
    assert response.status_code == 400
    assert stored_files(settings) == []


def test_a_string_instead_of_a_file_is_refused(auth_api, settings):
    response = auth_api.put("/account/", {"image": "hello"}, format="json")
    assert response.status_code == 400
    assert "image" in response.json()


def test_a_new_image_wins_over_image_delete(auth_api, settings):
    response = auth_api.put(
        "/account/",
        {"image": upload(image_bytes("PNG"), name="a.png"), "image_delete": "delete"},
        format="multipart",
    )

    assert response.status_code == 200
    assert response.json()["image"].endswith(".png")
    assert len(stored_files(settings)) == 1


def test_an_empty_image_field_in_a_form_keeps_the_image(auth_api, settings):
    url = put_image(auth_api, image_bytes("PNG")).json()["image"]

    response = auth_api.put("/account/", {"image": "", "username": "x"}, format="multipart")

    assert response.status_code == 200
    assert response.json()["image"] == url
    assert len(stored_files(settings)) == 1

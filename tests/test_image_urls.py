"""funsun.images.image_url: the storage's own url() answer, computed without urljoin for the
names the app gives its files."""

import pytest
from django.core.files.storage import default_storage, storages

from funsun.images import image_url, random_upload_path
from funsun.storage import MediaPathS3Storage

NAMES = [
    random_upload_path("funding")(None, "photo.JPG"),  # what uploads are named
    "review/abc_DEF-123.webp",
    "funding/with space.png",  # anything else goes through the storage
    "funding/../escape.png",
    "funding/한글.png",
    "funding/q?x=1.png",
]


@pytest.mark.parametrize("name", NAMES)
def test_same_path_as_the_file_storage(name):
    assert image_url(name) == default_storage.url(name)


def test_plain_names_are_site_relative_media_paths():
    assert image_url("funding/abc.jpg") == "/media/funding/abc.jpg"
    assert image_url(None) is None
    assert image_url("") is None


@pytest.mark.parametrize("name", [n for n in NAMES if ".." not in n])
def test_same_path_as_the_object_storage(settings, name):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "funsun.storage.MediaPathS3Storage",
            "OPTIONS": {"bucket_name": "funsun-test", "region_name": "us-east-1"},
        },
    }
    storage = storages["default"]
    assert isinstance(storage, MediaPathS3Storage)
    assert image_url(name) == storage.url(name)

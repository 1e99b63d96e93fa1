"""Object storage for uploaded images, addressed through the site's own /media/ path."""

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class MediaPathS3Storage(S3Storage):
    """S3 (or S3-compatible) storage whose URLs are site-relative `MEDIA_URL` paths.

    The mobile app prefixes its base URL to every image path (docs/API.md "General rules"), so
    an absolute bucket URL would reach it as "<base>https://...". Objects are therefore named
    "/media/<name>" in responses, and the proxy maps /media/ to the bucket (plus AWS_LOCATION):
    deploy/nginx/media-s3.conf. Reads, writes and deletes go to the bucket as usual.
    """

    # funsun.images.image_url may answer MEDIA_URL + name itself for plain names.
    site_relative_media_urls = True

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        # Same checks as the parent (no path escaping the location), without the location
        # itself: the proxy adds it back.
        self._normalize_name(clean_name(name))
        return f"{settings.MEDIA_URL}{filepath_to_uri(clean_name(name))}"

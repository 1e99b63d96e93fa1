"""Image uploads: validated with Pillow, cleaned of metadata, stored under random names."""

import io
import logging
import re
import secrets
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.utils.deconstruct import deconstructible
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from funsun.api.errors import InvalidInput, TooLarge

logger = logging.getLogger(__name__)

# Pillow format name -> file extension we store under.
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


@deconstructible
class random_upload_path:
    """`upload_to` that ignores the client's file name: `<folder>/<random>.<ext>`."""

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, instance, filename: str) -> str:
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
        return f"{self.folder}/{secrets.token_urlsafe(16)}.{ext}"

    def __eq__(self, other):
        return isinstance(other, random_upload_path) and other.folder == self.folder


def clean_image(upload) -> ContentFile:
    """Check an uploaded file is a real, bounded image and return a metadata-free copy.

    Raises TooLarge (413) past the byte limit and InvalidInput (400) for anything
    that is not a JPEG, PNG, WebP or GIF that Pillow can fully decode within the pixel limit.
    """
    size = getattr(upload, "size", None)
    if size is None:
        raise InvalidInput("image: not a file.")
    if size > settings.MAX_IMAGE_BYTES:
        raise TooLarge(f"image: larger than {settings.MAX_IMAGE_BYTES // (1024 * 1024)} MB.")
    if size == 0:
        raise InvalidInput("image: the file is empty.")
    upload.seek(0)
    data = upload.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise InvalidInput("image: only JPEG, PNG, WebP or GIF images are accepted.")
            width, height = probe.size
            if width * height > settings.MAX_IMAGE_PIXELS:
                raise InvalidInput(
                    f"image: more than {settings.MAX_IMAGE_PIXELS // 1_000_000} megapixels."
                )
            probe.verify()
            # verify() does not decode pixel data; load() catches truncated files.
            image = Image.open(io.BytesIO(data))
            image.load()
    except InvalidInput:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as exc:
        raise InvalidInput("image: not a valid image file.") from exc

    ext = ALLOWED_FORMATS[fmt]
    if fmt == "GIF":
        return ContentFile(_clean_gif(image), name=f"upload.{ext}")
    out = io.BytesIO()
    image = ImageOps.exif_transpose(image)
    save_kwargs = {}
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        save_kwargs = {"quality": 90, "optimize": True}
    image.save(out, format=fmt, **save_kwargs)  # re-encoding drops EXIF and other metadata
    return ContentFile(out.getvalue(), name=f"upload.{ext}")


# Frames of an animated GIF we decode at most (each costs a decode, however small it is).
MAX_GIF_FRAMES = 500
# What a re-encoded GIF keeps of each frame's metadata: timing and transparency, nothing else.
GIF_FRAME_INFO = ("duration", "transparency", "background")


def _clean_gif(image: Image.Image) -> bytes:
    """Every frame re-encoded, the animation kept. Bytes after the trailer, comments and
    application extensions do not survive (where a GIF/JavaScript polyglot keeps its
    script). Decoding is bounded: at most MAX_GIF_FRAMES frames and MAX_IMAGE_PIXELS pixels
    over all of them, like one still image."""
    width, height = image.size
    loop = image.info.get("loop")  # absent: the animation plays once
    frames: list[Image.Image] = []
    try:
        for frame in ImageSequence.Iterator(image):
            if len(frames) >= MAX_GIF_FRAMES:
                raise InvalidInput(f"image: an animation of more than {MAX_GIF_FRAMES} frames.")
            if (len(frames) + 1) * width * height > settings.MAX_IMAGE_PIXELS:
                raise InvalidInput(
                    f"image: an animation of more than "
                    f"{settings.MAX_IMAGE_PIXELS // 1_000_000} megapixels in all its frames."
                )
            copy = frame.copy()
            copy.info = {k: v for k, v in frame.info.items() if k in GIF_FRAME_INFO}
            frames.append(copy)
        out = io.BytesIO()
        first, rest = frames[0], frames[1:]
        options = {"save_all": True, "append_images": rest} if rest else {}
        if rest and loop is not None:
            options["loop"] = loop
        first.save(out, format="GIF", **options)
    except (OSError, ValueError, EOFError, SyntaxError) as exc:
        raise InvalidInput("image: not a valid image file.") from exc
    return out.getvalue()


def image_url(field) -> str | None:
    """A stored image (a file field or a stored name) as the app wants it: a path relative
    to the site root, or None."""
    if not field:
        return None
    name = field if isinstance(field, str) else field.name
    if _PLAIN_NAME.fullmatch(name) and _answers_media_paths(storages["default"]):
        # What the storage's url() answers for such a name, without its URL parsing
        # (urljoin): a feed page renders up to 24 images.
        return settings.MEDIA_URL + name
    return default_storage.url(name)


# The names random_upload_path gives (`funding/<token_urlsafe>.jpg`): nothing in them is
# quoted in a URL, and no "." or ".." segment for urljoin to resolve.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.[A-Za-z0-9]+")


def _answers_media_paths(storage) -> bool:
    """The storage's url(name) is MEDIA_URL + name for a plain name: files under
    MEDIA_ROOT served at MEDIA_URL, or funsun.storage.MediaPathS3Storage."""
    if isinstance(storage, FileSystemStorage):
        return storage.base_url == settings.MEDIA_URL
    return getattr(storage, "site_relative_media_urls", False)


def delete_stored(name: str | None) -> None:
    """Remove a stored file; a file already gone is not an error.

    Runs after the database change it follows has been saved, so a storage failure (disk or
    object storage, whatever the backend raises) is logged, never turned into an error answer.
    """
    if not name:
        return
    try:
        default_storage.delete(name)
    except Exception:  # backends raise their own types (OSError, botocore errors...)
        logger.warning("could not delete stored file %s", name, exc_info=True)

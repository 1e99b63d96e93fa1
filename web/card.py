"""The share image of a funding (Open Graph's og:image): 1200 x 630 PNG.

Drawn with Pillow and the bundled NanumSquare Bold (web/fonts, SIL Open Font License): no
system font is needed, so every server draws the same Korean text.
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 1200, 630
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "NanumSquareB.ttf"
BACKGROUND = (255, 248, 240)
ACCENT = (255, 111, 60)
INK = (34, 34, 34)
MUTED = (102, 102, 102)
TRACK = (238, 226, 214)
SITE_NAME = "FunSun"


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int) -> list[str]:
    """At most `lines` lines of `text` that fit `width`; the last one ends with an ellipsis
    when the text is longer. Lines break between words, or anywhere in a long run of text."""
    out: list[str] = []
    rest = " ".join(text.split())
    while rest and len(out) < lines:
        cut = len(rest)
        while cut > 1 and draw.textlength(rest[:cut], font=font) > width:
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        if cut < len(rest) and space > cut // 2:
            cut = space  # between words where one is near: 띄어쓰기 keeps words whole
        line, rest = rest[:cut], rest[cut:].lstrip()
        if rest and len(out) == lines - 1:
            while line and draw.textlength(line + "…", font=font) > width:
                line = line[:-1]
            line += "…"
        out.append(line)
    return out


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _gift_picture(image_file) -> Image.Image | None:
    if not image_file:
        return None
    try:
        with image_file.open("rb") as handle:
            picture = Image.open(handle)
            picture.load()
    except (OSError, UnidentifiedImageError, ValueError):
        logger.warning("share card: the funding's image could not be read")
        return None
    return ImageOps.fit(ImageOps.exif_transpose(picture).convert("RGB"), (HEIGHT, HEIGHT))


def funding_card(
    *, title: str, goal: int, current: int, status_text: str, image_file=None
) -> bytes:
    """The card of a public funding: its picture, title and progress."""
    card = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(card)
    picture = _gift_picture(image_file)
    left = 60
    if picture is not None:
        card.paste(picture, (0, 0))
        left = HEIGHT + 60
    text_width = WIDTH - left - 60
    draw.text((left, 56), SITE_NAME, font=_font(36), fill=ACCENT)
    y = 140
    for line in _wrap(draw, title, _font(64), text_width, 3):
        draw.text((left, y), line, font=_font(64), fill=INK)
        y += 80
    percent = min(100, current * 100 // goal) if goal else 0
    draw.text((left, 420), f"{current:,}원 / {goal:,}원", font=_font(40), fill=INK)
    draw.rounded_rectangle((left, 486, left + text_width, 514), radius=14, fill=TRACK)
    if percent:
        filled = max(28, text_width * percent // 100)
        draw.rounded_rectangle((left, 486, left + filled, 514), radius=14, fill=ACCENT)
    draw.text((left, 540), f"{percent}% · {status_text}", font=_font(34), fill=MUTED)
    return _png(card)


@lru_cache(maxsize=1)
def neutral_card() -> bytes:
    """The card of anything that is not a public funding: nothing of any funding in it."""
    card = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(card)
    draw.text((WIDTH // 2, 250), SITE_NAME, font=_font(120), fill=ACCENT, anchor="mm")
    draw.text((WIDTH // 2, 390), "친구와 함께 준비하는 선물", font=_font(48), fill=INK, anchor="mm")
    return _png(card)

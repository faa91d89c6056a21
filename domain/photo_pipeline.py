"""Turning an uploaded photo into what Roost serves: pure Pillow work, no I/O, no Ray.

Every photo is decoded and re-encoded, never served as uploaded. That is what strips its metadata
(EXIF with GPS positions, XMP, comments, text chunks): the new JPEGs are written without any of it.
Before the pixels are decoded the header's dimensions are checked against the pixel limit, so a
small file that claims 30000x30000 pixels is refused before it can take gigabytes of memory
(Pillow's global Image.MAX_IMAGE_PIXELS is left alone: other code in the process shares it).

The camera's orientation tag is applied to the pixels (phones store portraits sideways), colours
in an embedded ICC profile are converted to sRGB (the profile itself is not kept), and
transparency is flattened onto white, since JPEG has none.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Longest side of the variants guests see in the feed and in grids; never upscaled.
WEB_LONGEST_SIDE = 1600
THUMB_LONGEST_SIDE = 400
# High enough that the stored original is indistinguishable from the upload on screen.
ORIGINAL_QUALITY = 90
VARIANT_QUALITY = 82
OUTPUT_CONTENT_TYPE = "image/jpeg"


class RejectedImage(Exception):
    """The bytes cannot become a photo; `reason` is stored as the photo's failure_reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Variants:
    original: bytes
    web: bytes
    thumb: bytes
    width: int
    height: int


def decode(data: bytes, max_pixels: int, formats: tuple[str, ...] = ALLOWED_FORMATS) -> Image.Image:
    """Open with the format allowlist, check the size from the header, then load the pixels."""
    try:
        im = Image.open(io.BytesIO(data), formats=list(formats))
    except Image.DecompressionBombError:
        raise RejectedImage("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        raise RejectedImage("not_an_image") from None
    width, height = im.size
    if width <= 0 or height <= 0:
        raise RejectedImage("not_an_image")
    if width * height > max_pixels:
        raise RejectedImage("too_many_pixels")
    try:
        im.load()
    except Image.DecompressionBombError:
        raise RejectedImage("too_many_pixels") from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError):
        # truncated or corrupt pixel data
        raise RejectedImage("corrupt_image") from None
    return im


def _to_srgb(im: Image.Image) -> Image.Image:
    icc = im.info.get("icc_profile")
    if not icc:
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if "A" in im.getbands() else "RGB"
        converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode=mode)
        return converted if converted is not None else im
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im  # a broken profile: keep the pixels as they are rather than refuse the photo


def to_rgb(im: Image.Image) -> Image.Image:
    """Three 8-bit channels, transparency flattened onto white."""
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of letting convert() clip it to white
        im = im.point(lambda v: v / 256).convert("L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im if im.mode == "RGB" else im.convert("RGB")


def _jpeg(im: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    # No exif=, icc_profile= or comment= arguments: the output carries no metadata at all.
    im.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
    return buf.getvalue()


def _scaled(im: Image.Image, longest: int) -> Image.Image:
    if max(im.size) <= longest:
        return im
    copy = im.copy()
    copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return copy


def normalized(data: bytes, *, max_pixels: int, formats: tuple[str, ...] = ALLOWED_FORMATS) -> Image.Image:
    """Decoded within the pixel limit, turned upright, sRGB, 8-bit RGB, no metadata left (avatars
    use this too: gateway/accounts/avatar.py). Raises RejectedImage."""
    im = decode(data, max_pixels, formats)
    try:
        im = ImageOps.exif_transpose(im)
    except (OSError, ValueError, SyntaxError, struct.error):
        pass  # unreadable EXIF: the pixels are fine, only the orientation hint is lost
    im = to_rgb(_to_srgb(im))
    im.info = {}
    return im


def jpeg_of(im: Image.Image, *, longest_side: int, quality: int = VARIANT_QUALITY) -> bytes:
    """`im` scaled down to `longest_side` (never up) as a metadata-free JPEG."""
    return _jpeg(_scaled(im, longest_side), quality)


def process(data: bytes, *, max_pixels: int) -> Variants:
    """The re-encoded original and its web and thumbnail variants. Raises RejectedImage."""
    im = normalized(data, max_pixels=max_pixels)
    return Variants(
        original=_jpeg(im, ORIGINAL_QUALITY),
        web=_jpeg(_scaled(im, WEB_LONGEST_SIDE), VARIANT_QUALITY),
        thumb=_jpeg(_scaled(im, THUMB_LONGEST_SIDE), VARIANT_QUALITY),
        width=im.width,
        height=im.height,
    )

"""The pure parts of the photo pipeline, without Ray or a server: the fast upload checks, the
re-encoding (metadata gone, orientation applied, variants), and upload URL signing."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from PIL import Image

from domain import image_checks, photo_pipeline
from domain.errors import Forbidden, Invalid
from domain.settings import Settings
from domain.upload_signing import UploadSigner
from jobs import images
from tests.events import photo_fixtures as fx

# the default limit, as the upload check and the image task get it
MAX_PIXELS = Settings.model_fields["event_photo_max_pixels"].default


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# -- fast checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,content_type,size",
    [
        (fx.jpeg(64, 48), "image/jpeg", (64, 48)),
        (fx.png(40, 30), "image/png", (40, 30)),
        (fx.png(40, 30, alpha=True), "image/png", (40, 30)),
        (fx.webp(50, 20), "image/webp", (50, 20)),
        (fx.jpeg_with_exif(), "image/jpeg", (80, 40)),
        (fx.jpeg() + b"\x00" * 16, "image/jpeg", (64, 48)),  # zero padding after EOI is harmless
    ],
)
def test_good_images_pass_the_fast_checks(data, content_type, size):
    checked = image_checks.check_upload(data, content_type, MAX_PIXELS)
    assert (checked.width, checked.height) == size


@pytest.mark.parametrize(
    "builder,content_type,reason",
    [
        (fx.not_an_image, "image/jpeg", "not_an_image"),
        (fx.gif, "image/png", "not_an_image"),
        (fx.fake_jpeg_magic, "image/jpeg", "malformed"),
        (fx.truncated_jpeg, "image/jpeg", "malformed"),
        (fx.png, "image/jpeg", "type_mismatch"),
        (fx.jpeg_zip_polyglot, "image/jpeg", "trailing_data"),
        (fx.jpeg_html_polyglot, "image/jpeg", "trailing_data"),
        (fx.png_trailing_zip, "image/png", "trailing_data"),
        (fx.webp_trailing_html, "image/webp", "trailing_data"),
        (fx.jpeg_comment_html, "image/jpeg", "embedded_file"),
    ],
)
def test_hostile_files_fail_the_fast_checks(builder, content_type, reason):
    with pytest.raises(Invalid) as caught:
        image_checks.check_upload(builder(), content_type, MAX_PIXELS)
    assert (caught.value.code, caught.value.meta["reason"]) == ("invalid_image", reason)


def test_a_decompression_bomb_is_refused_from_its_header():
    bomb = fx.png_bomb()
    assert len(bomb) < 200_000  # 900 megapixels in about a hundred KB
    with pytest.raises(Invalid) as caught:
        image_checks.check_upload(bomb, "image/png", MAX_PIXELS)
    assert caught.value.code == "image_too_large_pixels"
    assert caught.value.status == 422


def test_the_pixel_limit_is_ours_not_only_pillows():
    """8000x6000 is below Pillow's own bomb ceiling; the configured limit still refuses it."""
    data = fx.jpeg_bomb_header(8000, 6000)
    with pytest.raises(Invalid) as caught:
        image_checks.check_upload(data, "image/jpeg", MAX_PIXELS)
    assert caught.value.meta == {"max_pixels": MAX_PIXELS, "width": 8000, "height": 6000}
    assert image_checks.check_upload(data, "image/jpeg", 48_000_000).width == 8000


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_idat_bomb(width: int, height: int, inflated_mib: int) -> bytes:
    """An 8-bit RGB PNG whose header claims width x height but whose pixel stream inflates to
    `inflated_mib` MiB of zeros (about 1 KB per MiB): one full-flushed deflate block of a MiB of
    zeros does not depend on what came before, so it is written once and repeated."""
    mib = b"\x00" * (1 << 20)
    deflate = zlib.compressobj(9)
    head = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    adler = ((inflated_mib << 20) % 65521) << 16 | 1  # Adler-32 of n zero bytes: A = 1, B = n mod 65521
    stream = head + block * (inflated_mib - 1) + b"\x03\x00" + struct.pack(">I", adler)  # empty final block
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return image_checks.PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")


def test_a_pixel_stream_bomb_inside_a_small_frame_costs_only_its_frame():
    """A within-limit header (1000x1000) over a stream inflating to 8 GiB: the fast checks never
    inflate it and the decoder stops once the frame is full, so the cost is the frame's."""
    bomb = png_idat_bomb(1000, 1000, 8192)
    assert len(bomb) < 10_000_000  # under EVENT_PHOTO_MAX_BYTES
    assert zlib.decompressobj().decompress(bomb[41:41 + 4096], 1 << 20)  # the stream is real deflate
    started = time.monotonic()
    checked = image_checks.check_upload(bomb, "image/png", MAX_PIXELS)
    variants = photo_pipeline.process(bomb, max_pixels=MAX_PIXELS)
    # inflating 8 GiB takes tens of seconds of CPU; a 1000x1000 frame a fraction of one
    assert time.monotonic() - started < 4
    assert (checked.width, checked.height) == (variants.width, variants.height) == (1000, 1000)


def test_the_image_task_decodes_with_the_configured_limit():
    """The task gets the limit in its payload and checks the header before decoding: 6000x6000
    (36 M pixels, a few KB) is refused without a decode at the 24 M default."""
    payload = images.payload_for(1, Settings(_env_file=None, app_key="k" * 32))
    assert payload["max_pixels"] == 24_000_000
    started = time.monotonic()
    with pytest.raises(photo_pipeline.RejectedImage) as caught:
        photo_pipeline.process(fx.png_bomb(6000, 6000), max_pixels=payload["max_pixels"])
    assert caught.value.reason == "too_many_pixels"
    assert time.monotonic() - started < 1


# -- the pipeline ---------------------------------------------------------------------------------


def test_exif_gps_is_stripped_and_the_orientation_applied():
    source = _open(fx.jpeg_with_exif(80, 40))
    assert source.getexif().get_ifd(fx.GPS_IFD)  # the fixture really carries GPS
    variants = photo_pipeline.process(fx.jpeg_with_exif(80, 40), max_pixels=MAX_PIXELS)
    out = _open(variants.original)
    assert (variants.width, variants.height) == out.size == (40, 80)  # turned upright
    assert len(out.getexif()) == 0 and "exif" not in out.info
    assert b"RoostCam" not in variants.original and b"Exif" not in variants.original
    # rotated 90 degrees clockwise: the red left half is now on top, the blue right half below
    red, blue = out.getpixel((20, 10)), out.getpixel((20, 70))
    assert red[0] > 200 and red[2] < 60 and blue[2] > 200 and blue[0] < 60


def test_variants_are_jpegs_scaled_down_never_up():
    big = photo_pipeline.process(fx.jpeg(3200, 1600), max_pixels=MAX_PIXELS)
    assert _open(big.web).size == (1600, 800)
    assert _open(big.thumb).size == (400, 200)
    assert _open(big.original).size == (3200, 1600)
    small = photo_pipeline.process(fx.jpeg(300, 200), max_pixels=MAX_PIXELS)
    assert _open(small.web).size == _open(small.thumb).size == (300, 200)
    for data in (big.original, big.web, big.thumb):
        assert _open(data).format == "JPEG"


def test_transparency_is_flattened_onto_white_and_webp_is_accepted():
    flat = _open(photo_pipeline.process(fx.png(20, 20, alpha=True), max_pixels=MAX_PIXELS).original)
    assert flat.mode == "RGB" and min(flat.getpixel((10, 10))) > 245
    assert _open(photo_pipeline.process(fx.webp(), max_pixels=MAX_PIXELS).original).size == (50, 20)


@pytest.mark.parametrize(
    "data,reason",
    [
        (fx.not_an_image(), "not_an_image"),
        (fx.gif(), "not_an_image"),  # decodable, but not in the allowlist
        (fx.png_bomb(), "too_many_pixels"),
        (fx.jpeg_bomb_header(8000, 6000), "too_many_pixels"),
        (fx.truncated_jpeg(), "corrupt_image"),
    ],
)
def test_the_pipeline_refuses_what_it_cannot_turn_into_a_photo(data, reason):
    with pytest.raises(photo_pipeline.RejectedImage) as caught:
        photo_pipeline.process(data, max_pixels=MAX_PIXELS)
    assert caught.value.reason == reason


# -- signing --------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _parts(signer: UploadSigner, upload_id: str, expires: int) -> tuple[str, str]:
    return str(expires), signer.signature(upload_id, expires)


def test_a_signed_url_verifies_until_it_expires():
    clock = Clock(1_000_000.0)
    signer = UploadSigner("k" * 32, clock=clock)
    expires = signer.expiry(900)
    assert expires == 1_000_900
    url = signer.url("https://roost.example/", "a" * 32, expires)
    assert url.startswith(f"https://roost.example/api/v1/uploads/{'a' * 32}?expires=1000900&signature=")
    assert signer.verify("a" * 32, *_parts(signer, "a" * 32, expires)) == expires
    clock.now = expires + 1
    with pytest.raises(Forbidden) as caught:
        signer.verify("a" * 32, *_parts(signer, "a" * 32, expires))
    assert caught.value.code == "upload_expired"


@pytest.mark.parametrize(
    "upload_id,expires,signature",
    [
        ("b" * 32, "1000900", None),  # signature of another upload
        ("a" * 32, "1000901", None),  # expiry moved
        ("a" * 32, "1000900", "0" * 64),
        ("a" * 32, "1000900", ""),
        ("a" * 32, "", None),
        ("a" * 32, "-5", None),
        ("a" * 32, "²", None),
        ("a" * 32, "1000900", "é" * 64),  # not ASCII: must not crash the comparison
    ],
)
def test_tampered_urls_are_invalid_signatures(upload_id, expires, signature):
    signer = UploadSigner("k" * 32, clock=Clock(1_000_000.0))
    good = signer.signature("a" * 32, 1_000_900)
    with pytest.raises(Forbidden) as caught:
        signer.verify(upload_id, expires, good if signature is None else signature)
    assert caught.value.code == "invalid_signature"


def test_the_key_is_bound_to_app_key_and_purpose():
    one, other = UploadSigner("k" * 32), UploadSigner("j" * 32)
    assert one.signature("a" * 32, 5) != other.signature("a" * 32, 5)
    import hashlib
    import hmac

    plain = hmac.new(("k" * 32).encode(), f"{'a' * 32}.5".encode(), hashlib.sha256).hexdigest()
    assert one.signature("a" * 32, 5) != plain

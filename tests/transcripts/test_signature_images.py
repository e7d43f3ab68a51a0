"""Signature and seal images: a transparent PNG is kept as its pixels only; everything else is refused
with a reason in both languages, before a hostile file is decoded."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from tests.signature_pictures import opaque_png, seal_png, signature_png
from transcripts.errors import SignatureImageError, SignatureImageTooLargeError
from transcripts.signature_images import MAX_BYTES, ImageKind, check_image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb() -> bytes:
    """A PNG whose header claims 100000×100000 RGBA pixels (40 GB decoded) with a tiny body."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + _chunk(b"IEND", b"")


def test_a_transparent_png_is_kept_as_a_clean_rgba_png() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>" * 100)  # a chunk a hostile file might carry
    source = Image.open(io.BytesIO(signature_png()))
    tagged = io.BytesIO()
    source.save(tagged, format="PNG", pnginfo=info)
    kept = check_image(tagged.getvalue(), ImageKind.SIGNATURE)
    assert (kept.width, kept.height) == (600, 240)
    assert b"script" not in kept.png and b"tEXt" not in kept.png  # only the pixels were kept
    with Image.open(io.BytesIO(kept.png)) as image:
        assert image.format == "PNG" and image.mode == "RGBA"
        assert image.getchannel("A").getextrema() == (0, 255)
    assert check_image(seal_png(), ImageKind.SEAL).width == 400


@pytest.mark.parametrize(
    ("data", "says_vi", "says_en"),
    [
        (opaque_png(), "nền trong suốt", "transparent background"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 100, "phải là tệp PNG", "must be a PNG"),  # a JPEG
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "phải là tệp PNG", "must be a PNG"),
        (signature_png()[:400], "không phải tệp PNG đọc được", "not a readable PNG"),  # truncated
        (_bomb(), "mỗi cạnh phải từ 40 đến 2000", "each side must be 40 to 2000"),
        (signature_png(width=30, height=30), "mỗi cạnh phải từ 40 đến 2000", "each side must be 40 to 2000"),
    ],
    ids=["opaque", "jpeg", "svg", "truncated", "bomb", "tiny"],
)
def test_what_is_refused_and_why(data: bytes, says_vi: str, says_en: str) -> None:
    with pytest.raises(SignatureImageError) as err:
        check_image(data, ImageKind.SEAL)
    assert says_vi in err.value.message_vi and says_en in err.value.message_en
    assert err.value.message_vi.startswith("Ảnh con dấu")


def test_a_corrupt_chunk_and_an_animation_are_refused() -> None:
    good = bytearray(signature_png())
    good[40] ^= 0xFF  # inside the image data: its CRC no longer matches
    with pytest.raises(SignatureImageError, match="đọc được"):
        check_image(bytes(good), ImageKind.SIGNATURE)
    frames = [Image.open(io.BytesIO(signature_png())).convert("RGBA") for _ in range(2)]
    animated = io.BytesIO()
    frames[0].save(animated, format="PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(SignatureImageError, match="ảnh tĩnh"):
        check_image(animated.getvalue(), ImageKind.SIGNATURE)


def test_a_file_over_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(SignatureImageTooLargeError) as err:
        check_image(b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_BYTES, ImageKind.SIGNATURE)
    assert err.value.code == "signature_image_too_large" and err.value.details["limit"] == MAX_BYTES

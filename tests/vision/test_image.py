"""Decoding uploads: what is refused, and what is converted."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.face_photos import astronaut, jpeg_bytes, png_bytes
from vision.errors import ImageError, ImageTooLargeError
from vision.image import MAX_SIDE, decode_image


def test_rgb_gray_and_alpha_all_become_rgb() -> None:
    face = astronaut()
    assert decode_image(jpeg_bytes(face)).shape == face.shape
    gray = decode_image(png_bytes(face, "L"))
    assert gray.shape == face.shape and np.array_equal(gray[..., 0], gray[..., 2])
    rgba = np.dstack([face, np.full(face.shape[:2], 128, np.uint8)])
    assert decode_image(png_bytes(rgba)).shape == face.shape


def test_exif_rotation_is_applied() -> None:
    buf = io.BytesIO()
    img = Image.fromarray(astronaut())
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    img.save(buf, format="JPEG", exif=exif)
    assert decode_image(buf.getvalue()).shape == (640, 600, 3)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "invalid_image"),
        (b"%PDF-1.7 not a photo", "invalid_image"),
        (jpeg_bytes(astronaut())[:2000], "invalid_image"),  # truncated upload
    ],
)
def test_bad_bytes_are_refused_with_a_reason(data: bytes, code: str) -> None:
    with pytest.raises(ImageError) as info:
        decode_image(data, name="anh.jpg")
    assert info.value.code == code and "anh.jpg" in info.value.message_vi


def test_other_formats_and_huge_images_are_refused_before_decoding() -> None:
    buf = io.BytesIO()
    Image.fromarray(astronaut()).save(buf, format="GIF")
    with pytest.raises(ImageError) as info:
        decode_image(buf.getvalue())
    assert info.value.details["received"] == "GIF" and "JPEG" in info.value.details["accepted"]
    with pytest.raises(ImageTooLargeError) as big:
        decode_image(png_bytes(astronaut()), max_pixels=100_000)
    assert big.value.details["width"] == 640


def test_a_big_photo_is_kept_at_most_max_side_and_a_transparent_one_flattened_on_grey() -> None:
    """A 150 KB transparent PNG of 6300 x 6300 cost 830 MB in full-size copies (an attacker's probe)."""
    buf = io.BytesIO()
    Image.new("RGBA", (6300, 4200), (0, 0, 0, 0)).save(buf, format="PNG")
    flat = decode_image(buf.getvalue())
    assert flat.shape == (2731, MAX_SIDE, 3) and np.all(flat == 128)
    wide = np.tile(astronaut(), (2, 8, 1))  # 5120 x 1200: shrunk once decoded
    assert decode_image(jpeg_bytes(wide)).shape == (round(wide.shape[0] * MAX_SIDE / wide.shape[1]), MAX_SIDE, 3)


def test_a_phone_photo_in_mpo_is_read_as_its_jpeg() -> None:
    """Many phones write MPO: the photo as a JPEG followed by more frames."""
    face = astronaut()
    buf = io.BytesIO()
    Image.fromarray(face).save(buf, format="MPO", save_all=True, append_images=[Image.new("RGB", (64, 64), "blue")])
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    assert decode_image(buf.getvalue(), name="dien-thoai.jpg").shape == face.shape

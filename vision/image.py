"""Decoding photos and frames into RGB arrays, refusing what is not a usable image."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vision.errors import ImageError, ImageTooLargeError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
# MPO is what many phones write: a JPEG (the photo, read here) followed by more frames (depth, a preview)
_JPEG_LIKE = ("JPEG", "MPO")
MAX_PIXELS = 40_000_000  # a 50-megapixel camera's photo is refused before it is decoded
# Photos are kept at most this long a side once decoded: faces are found at 1920 px and encoded from
# a 150 px chip, and each full-size copy of a 40-megapixel photo is 120-160 MB (a 150 KB transparent
# PNG cost 830 MB in copies: an attacker's probe)
MAX_SIDE = 4096


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS, name: str = "ảnh") -> np.ndarray:
    """RGB uint8 array (H, W, 3) from encoded bytes; EXIF rotation applied, alpha flattened on grey,
    grayscale and palette images converted. Raises ``ImageError`` saying what was wrong."""
    return decode_photo(data, max_pixels=max_pixels, name=name)[0]


def decode_photo(
    data: bytes, *, max_pixels: int = MAX_PIXELS, name: str = "ảnh", region: tuple[int, int, int, int] | None = None
) -> tuple[np.ndarray, float]:
    """``decode_image``, and the scale it was kept at (1.0, or below for a photo over ``MAX_SIDE``):
    sizes that the person who took it can check are in its own pixels. ``region`` (left, top, right,
    bottom in the photo's own pixels): only that part, at full size (a face found in the smaller copy)."""
    scale = 1.0
    if not data:
        raise ImageError(f"Tệp {name} rỗng", f"The file {name} is empty", accepted=list(ACCEPTED_FORMATS))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data))
            fmt = img.format
            if fmt not in ACCEPTED_FORMATS + _JPEG_LIKE:
                raise ImageError(
                    f"Định dạng {fmt} không được hỗ trợ; hãy dùng JPEG, PNG, WEBP hoặc BMP",
                    f"Format {fmt} is not accepted; use JPEG, PNG, WEBP or BMP",
                    received=fmt,
                    accepted=list(ACCEPTED_FORMATS),
                )
            width, height = img.size
            if width * height > max_pixels:  # checked from the header, before decoding
                raise ImageTooLargeError(
                    f"Ảnh quá lớn ({width}×{height} điểm ảnh); tối đa {max_pixels // 1_000_000} triệu điểm ảnh",
                    f"The image is too large ({width}×{height} px); at most {max_pixels // 1_000_000} megapixels",
                    width=width,
                    height=height,
                    max_pixels=max_pixels,
                )
            img.load()
            img = ImageOps.exif_transpose(img)
            if region is not None:
                img = img.crop(region)
            elif max(img.size) > MAX_SIDE:
                original = max(img.size)
                img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
                scale = max(img.size) / original
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageError(
            f"Tệp {name} không phải ảnh hợp lệ", f"The file {name} is not a valid image", reason=str(exc), accepted=list(ACCEPTED_FORMATS)
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise ImageError(f"Ảnh {name} bị hỏng hoặc không đọc được", f"The image {name} is corrupt", reason=str(exc)) from None
    return to_rgb(img), scale


def to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (128, 128, 128))
        flat.paste(rgba, mask=rgba.getchannel("A"))  # on grey, without another full-size RGBA copy
        img = flat
    if img.mode == "I;16" or img.mode == "I":
        img = img.point(lambda v: v / 256).convert("L")
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def load_image(path: str | Path, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ImageError(f"Không đọc được tệp {p}", f"Cannot read {p}", reason=str(exc)) from None
    return decode_image(data, max_pixels=max_pixels, name=p.name)


def resize_to_width(image: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """Shrink (never enlarge) to ``width``; returns the image and the factor to map boxes back."""
    h, w = image.shape[:2]
    if w <= width:
        return image, 1.0
    scale = width / w
    small = Image.fromarray(image).resize((width, max(1, round(h * scale))), Image.Resampling.BILINEAR)
    return np.asarray(small), scale

"""Signature and seal images for the signatures' appearance (Decree 30/2020/NĐ-CP, appendix I).

Both are PNG files with a transparent background: the signer's handwritten signature (blue) and the
body's seal (red). An upload is checked before anything is decoded (size, PNG signature, the
dimensions in its header, one frame) and then fully decoded; what is kept is a fresh PNG of the
pixels alone, so no chunk of the uploaded file (metadata, text, a crafted ancillary chunk) is ever
stored or served.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from enum import StrEnum

from transcripts.errors import SignatureImageError, SignatureImageTooLargeError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 1 << 20  # a scanned signature or seal is a few tens of KB
MIN_SIDE, MAX_SIDE = 40, 2000  # pixels: enough to print sharply at 300 dpi, never a decompression bomb


class ImageKind(StrEnum):
    SIGNATURE = "signature"  # a member's handwritten signature
    SEAL = "seal"  # a body's seal

    @property
    def vi(self) -> str:
        return {"signature": "Ảnh chữ ký", "seal": "Ảnh con dấu"}[self.value]

    @property
    def en(self) -> str:
        return {"signature": "The signature image", "seal": "The seal image"}[self.value]


@dataclass(frozen=True)
class SignatureImage:
    png: bytes  # re-encoded RGBA PNG: the pixels only
    width: int
    height: int


def check_image(data: bytes, kind: ImageKind, *, max_bytes: int = MAX_BYTES) -> SignatureImage:
    """The upload as a clean RGBA PNG, or ``SignatureImageError`` saying what is wrong with it."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise SignatureImageTooLargeError(
            f"{kind.vi} quá lớn ({len(data) // 1024} KB); giới hạn {max_bytes // 1024} KB",
            f"{kind.en} is too large ({len(data) // 1024} KB); the limit is {max_bytes // 1024} KB",
            size=len(data),
            limit=max_bytes,
        )
    if not data.startswith(PNG_MAGIC):
        raise SignatureImageError(
            f"{kind.vi} phải là tệp PNG nền trong suốt",
            f"{kind.en} must be a PNG file with a transparent background",
            first_bytes=data[:8].hex(),
        )
    if len(data) < 33 or data[12:16] != b"IHDR":  # the first chunk must be the header
        raise _unreadable(kind, ValueError("no IHDR chunk first"))
    width, height = struct.unpack(">II", data[16:24])  # read here: Pillow refuses a bomb before saying its size
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise SignatureImageError(
            f"{kind.vi} có kích thước {width}×{height} điểm ảnh; mỗi cạnh phải từ {MIN_SIDE} đến {MAX_SIDE}",
            f"{kind.en} is {width}×{height} pixels; each side must be {MIN_SIDE} to {MAX_SIDE}",
            width=width,
            height=height,
            min_side=MIN_SIDE,
            max_side=MAX_SIDE,
        )
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as probe:  # reads the chunks up to the pixels
            frames = getattr(probe, "n_frames", 1)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(kind, exc) from None
    if frames != 1:
        raise SignatureImageError(
            f"{kind.vi} phải là ảnh tĩnh, không phải ảnh động", f"{kind.en} must be a still image, not an animation", frames=frames
        )
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as checked:
            checked.verify()  # every chunk's CRC and the end of the file
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            rgba = image.convert("RGBA")  # decodes every pixel: a truncated stream fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _unreadable(kind, exc) from None
    lowest, _ = rgba.getchannel("A").getextrema()
    if not has_alpha or lowest == 255:
        raise SignatureImageError(
            f"{kind.vi} phải có nền trong suốt (PNG có kênh alpha); tệp này nền đặc",
            f"{kind.en} must have a transparent background (a PNG with alpha); this one is opaque",
            mode=image.mode,
        )
    out = io.BytesIO()
    rgba.save(out, format="PNG", optimize=True)
    return SignatureImage(out.getvalue(), width, height)


def _unreadable(kind: ImageKind, exc: BaseException) -> SignatureImageError:
    return SignatureImageError(
        f"{kind.vi} không phải tệp PNG đọc được (tệp hỏng hoặc bị cắt)",
        f"{kind.en} is not a readable PNG file (corrupt or truncated)",
        reason=str(exc)[:200],
    )

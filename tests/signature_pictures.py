"""Signature and seal images drawn here (Pillow): a blue handwritten-like stroke and a red round seal,
both on a transparent background, as a member and a body would upload them."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def signature_png(width: int = 600, height: int = 240) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [
        (width * (0.08 + 0.84 * i / 80), height * (0.55 + 0.3 * math.sin(i / 5.0) * (1 - i / 120))) for i in range(81)
    ]
    draw.line(points, fill=(20, 40, 160, 255), width=max(3, width // 100), joint="curve")
    draw.line([(width * 0.2, height * 0.8), (width * 0.85, height * 0.3)], fill=(20, 40, 160, 255), width=max(3, width // 120))
    return _png(image)


def seal_png(size: int = 400) -> bytes:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 20, 30, 230)
    draw.ellipse((4, 4, size - 4, size - 4), outline=red, width=size // 30)
    draw.ellipse((size * 0.12, size * 0.12, size * 0.88, size * 0.88), outline=red, width=size // 60)
    cx = cy = size / 2
    radii = [size * (0.16 if i % 2 == 0 else 0.065) for i in range(10)]
    star = [(cx + r * math.sin(i * math.pi / 5), cy - r * math.cos(i * math.pi / 5)) for i, r in enumerate(radii)]
    draw.polygon(star, fill=red)
    return _png(image)


def opaque_png(width: int = 300, height: int = 120) -> bytes:
    return _png(Image.new("RGB", (width, height), (255, 255, 255)))

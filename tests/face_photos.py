"""Real face photos for tests, read from wheels the test extra installs (never copied into the repo):
Eileen Collins (scikit-image's astronaut.png, NASA) and Grace Hopper (matplotlib's sample data,
US Navy), both public domain; and photos without a face. Plus helpers that compose frames and videos."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image


def package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)  # locates without importing the package
    assert spec is not None and spec.submodule_search_locations, package
    return Path(list(spec.submodule_search_locations)[0]) / relative


@cache
def astronaut() -> np.ndarray:
    """Eileen Collins, her face ~185 px (the original also shows a patch that HOG takes for a face)."""
    img = Image.open(package_file("skimage", "data/astronaut.png")).convert("RGB").crop((60, 0, 380, 300))
    return np.asarray(img.resize((640, 600)))


@cache
def hopper() -> np.ndarray:
    """Grace Hopper, face ~186 px."""
    return np.asarray(Image.open(package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")).convert("RGB"))


@cache
def coffee() -> np.ndarray:
    return np.asarray(Image.open(package_file("skimage", "data/coffee.png")).convert("RGB"))


def png_bytes(image: np.ndarray, mode: str | None = None) -> bytes:
    import io

    buf = io.BytesIO()
    img = Image.fromarray(image)
    (img.convert(mode) if mode else img).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(image: np.ndarray, quality: int = 90) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def scene(people: Iterable[np.ndarray], size: tuple[int, int] = (1280, 720), face_width: int = 300) -> np.ndarray:
    """A grey room with the given photos side by side (each scaled to ``face_width`` px wide)."""
    width, height = size
    canvas = Image.new("RGB", size, (96, 104, 112))
    photos = list(people)
    for i, photo in enumerate(photos):
        img = Image.fromarray(photo)
        img = img.resize((face_width, round(img.height * face_width / img.width)))
        x = int((i + 0.5) * width / max(1, len(photos)) - face_width / 2)
        canvas.paste(img, (max(0, x), max(0, (height - img.height) // 2)))
    return np.asarray(canvas)


def write_video(path: Path, frames: Iterable[np.ndarray], fps: int = 4) -> Path:
    """An MPEG-4 file through PyAV (the same library the cameras are read with)."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        first = True
        for image in frames:
            if first:
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt = "yuv420p"
                first = False
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def zip_of(entries: dict[str, bytes], compression: int = 0) -> bytes:
    """A ZIP archive in memory of ``{entry name: bytes}`` (stored, unless ``compression`` says otherwise)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@contextmanager
def damaged_face_models(folder: Path) -> Iterator[None]:
    """A site whose face model package is damaged, for processes spawned meanwhile: they start from
    this process's ``sys.path``, where a ``face_recognition_models`` that fails to import comes first
    (this process imported the real one already, or imports nothing of it meanwhile)."""
    broken = folder / "face_recognition_models"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "__init__.py").write_text('raise ImportError("the package is damaged")\n')
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        importlib.invalidate_caches()

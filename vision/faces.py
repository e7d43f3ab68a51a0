"""Face detection and 128-d encodings with dlib (through face_recognition), loaded on demand.

The models come from the ``face_recognition_models`` package on disk; nothing is downloaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from vision.errors import ModelError
from vision.image import resize_to_width


@dataclass(frozen=True)
class Box:
    top: int
    right: int
    bottom: int
    left: int

    @property
    def size(self) -> int:
        """The smaller side in pixels: what decides whether a face is big enough."""
        return min(self.bottom - self.top, self.right - self.left)

    def scaled(self, factor: float) -> Box:
        return Box(round(self.top / factor), round(self.right / factor), round(self.bottom / factor), round(self.left / factor))

    def iou(self, other: Box) -> float:
        top, left = max(self.top, other.top), max(self.left, other.left)
        bottom, right = min(self.bottom, other.bottom), min(self.right, other.right)
        inter = max(0, bottom - top) * max(0, right - left)
        area = (self.bottom - self.top) * (self.right - self.left) + (other.bottom - other.top) * (other.right - other.left) - inter
        return inter / area if area > 0 else 0.0


@dataclass(frozen=True)
class FaceOptions:
    detector: Literal["hog", "cnn"] = "hog"
    upsample: int = 1  # 1 finds faces down to ~40 px; 0 is 4x faster and needs ~80 px
    # Frames wider than this are shrunk for detection only. 1920: a 1080p hall camera is searched at
    # full size, so its 40-60 px faces stay findable (shrunk to 1280 they are 27-40 px and HOG at
    # upsample 1 misses half of them; measured in scripts/eval_faces.py --table).
    detect_width: int = 1920
    jitters: int = 1  # re-sampled encodings averaged; 1 is what dlib's accuracy figures use


@dataclass(frozen=True)
class Observation:
    box: Box
    encoding: np.ndarray  # (128,) float64


class FaceEngine:
    """Detects and encodes faces. Construct it in the process that uses it (models are per process)."""

    def __init__(self, options: FaceOptions | None = None) -> None:
        self.options = options or FaceOptions()
        from PIL import ImageFile

        truncated = ImageFile.LOAD_TRUNCATED_IMAGES
        try:
            import face_recognition  # loads the dlib models from face_recognition_models
        except (ImportError, RuntimeError, SystemExit) as exc:  # the package calls quit() when its models are missing
            raise ModelError(
                "Thiếu mô hình nhận diện khuôn mặt (gói face_recognition_models, dlib-bin, setuptools<81); hãy chạy lại scripts/run.sh",
                "Face models are missing (face_recognition_models, dlib-bin, setuptools<81 for pkg_resources); run scripts/run.sh again",
                reason=str(exc),
            ) from None
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated  # face_recognition turns it on globally: truncated uploads must fail
        self._fr: Any = face_recognition
        self._lock = threading.Lock()  # dlib's detector and networks are not documented as thread-safe

    def detect(self, image: np.ndarray, upsample: int | None = None) -> list[Box]:
        small, scale = resize_to_width(image, self.options.detect_width)
        with self._lock:
            found = self._fr.face_locations(
                small, number_of_times_to_upsample=self.options.upsample if upsample is None else upsample, model=self.options.detector
            )
        return [Box(*loc).scaled(scale) if scale != 1.0 else Box(*loc) for loc in found]

    def encode(self, image: np.ndarray, boxes: list[Box]) -> list[np.ndarray]:
        if not boxes:
            return []
        locations = [(b.top, b.right, b.bottom, b.left) for b in boxes]
        with self._lock:
            found = self._fr.face_encodings(image, locations, num_jitters=self.options.jitters)
        return [np.asarray(e) for e in found]

    def observe(self, image: np.ndarray) -> list[Observation]:
        boxes = self.detect(image)
        return [Observation(b, e) for b, e in zip(boxes, self.encode(image, boxes), strict=True)]


def sharpness(image: np.ndarray, box: Box) -> float:
    """Variance of the Laplacian of the face, resized to 128 px: low means blurred."""
    from PIL import Image

    h, w = image.shape[:2]
    crop = image[max(0, box.top) : min(h, box.bottom), max(0, box.left) : min(w, box.right)]
    if crop.size == 0:
        return 0.0
    gray = np.asarray(Image.fromarray(crop).convert("L").resize((128, 128), Image.Resampling.BILINEAR), dtype=np.float64)
    lap = -4 * gray[1:-1, 1:-1] + gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:]
    return float(lap.var())

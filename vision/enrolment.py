"""Is a photo fit to enrol a member? One face, big enough, sharp enough."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vision.errors import EnrolmentPhotoError
from vision.faces import Box, FaceEngine, sharpness


@dataclass(frozen=True)
class EnrolmentRules:
    min_face_px: int = 80  # the smaller side of the face box
    min_sharpness: float = 40.0  # variance of the Laplacian at 128 px (measured: see README)


@dataclass(frozen=True)
class EnrolledFace:
    encoding: np.ndarray
    box: Box
    face_px: int
    sharpness: float


def enrol_photo(
    engine: FaceEngine, image: np.ndarray, rules: EnrolmentRules | None = None, *, name: str = "ảnh", scale: float = 1.0,
    closer: Callable[[tuple[int, int, int, int]], np.ndarray] | None = None,
) -> EnrolledFace:  # fmt: skip
    """The face's encoding, or ``EnrolmentPhotoError`` saying why the photo cannot be used. ``scale``:
    what ``image`` is of the photo as taken (``decode_photo``); sizes are measured in the photo's own
    pixels, as its sender sees them (a 115 px face in a 24 MP photo was called "76 px, too small").
    ``closer(region)``: that part of the photo at its own size, where the face is then measured,
    checked and encoded: the smaller copy would encode a 45 px face that passed as 80."""
    rules = rules or EnrolmentRules()
    boxes = engine.detect(image, upsample=1)  # look hard, so that a small face is reported as small, not missing
    if not boxes:
        height, width = image.shape[:2]
        side = 2 * rules.min_face_px  # a portrait framed as usual: the face about half of it
        if min(height, width) < rules.min_face_px:  # a thumbnail: no face in it could be big enough
            raise EnrolmentPhotoError(
                f"Ảnh {name} quá nhỏ ({width}×{height} điểm ảnh) để đăng ký; cần ảnh chân dung khoảng {side} điểm ảnh mỗi cạnh trở lên",
                f"{name} is too small ({width}×{height} px) to enrol; a portrait of about {side} px a side or more is needed",
                reason="too_small",
                width=width,
                height=height,
                min_face_px=rules.min_face_px,
            )
        raise EnrolmentPhotoError(
            f"Không tìm thấy khuôn mặt nào trong {name}: hãy chụp chính diện, đủ sáng",
            f"No face found in {name}: use a frontal, well-lit photo",
            reason="no_face",
        )
    if len(boxes) > 1:
        raise EnrolmentPhotoError(
            f"{name} có {len(boxes)} khuôn mặt; ảnh đăng ký chỉ được có một người",
            f"{name} shows {len(boxes)} faces; an enrolment photo must show one person",
            reason="several_faces",
            faces=len(boxes),
        )
    box = boxes[0]
    if scale < 1 and closer is not None and (found := _closer_look(engine, image, box, scale, closer)) is not None:
        image, box, scale = *found, 1.0
    face_px = round(box.size / scale)
    if face_px < rules.min_face_px:
        raise EnrolmentPhotoError(
            f"Khuôn mặt trong {name} quá nhỏ ({face_px} điểm ảnh); cần ít nhất {rules.min_face_px}",
            f"The face in {name} is too small ({face_px} px); at least {rules.min_face_px} px is needed",
            reason="too_small",
            face_px=face_px,
            min_face_px=rules.min_face_px,
        )
    sharp = sharpness(image, box)
    if sharp < rules.min_sharpness:
        raise EnrolmentPhotoError(
            f"Ảnh {name} bị mờ (độ nét {sharp:.0f}, cần ít nhất {rules.min_sharpness:.0f}); hãy chụp lại",
            f"{name} is blurred (sharpness {sharp:.0f}, at least {rules.min_sharpness:.0f} needed); take it again",
            reason="blurry",
            sharpness=round(sharp, 1),
            min_sharpness=rules.min_sharpness,
        )
    (encoding,) = engine.encode(image, [box])
    return EnrolledFace(encoding, box, face_px, sharp)


def _closer_look(
    engine: FaceEngine, image: np.ndarray, box: Box, scale: float, closer: Callable[[tuple[int, int, int, int]], np.ndarray]
) -> tuple[np.ndarray, Box] | None:
    """The face found in the smaller copy, found again in that part of the photo at its own size
    (with a face's width around it); None if it is not found there once."""
    height, width = image.shape[:2]
    margin = box.size
    region = (
        round(max(0, box.left - margin) / scale), round(max(0, box.top - margin) / scale),
        round(min(width, box.right + margin) / scale), round(min(height, box.bottom + margin) / scale),
    )  # fmt: skip
    crop = closer(region)
    found = engine.detect(crop, upsample=0) or engine.detect(crop, upsample=1)
    return (crop, found[0]) if len(found) == 1 else None

"""The one error hierarchy of the ``vision`` package.

Every error carries a Vietnamese message (shown first), an English one and details; the
application maps the classes to HTTP codes.
"""

from __future__ import annotations

from typing import Any


class VisionError(Exception):
    """Base class of every error raised by ``vision``."""

    code = "vision_error"

    def __init__(self, message_vi: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.details = details


class ImageError(VisionError):
    """Bytes that are not an image we accept (corrupt, unknown format, too many pixels)."""

    code = "invalid_image"


class ImageTooLargeError(ImageError):
    code = "image_too_large"


class EnrolmentPhotoError(VisionError):
    """A photo unfit for enrolment; ``details["reason"]`` is no_face, several_faces, too_small or blurry."""

    code = "unusable_photo"


class ModelError(VisionError):
    """The face models are missing or cannot be loaded."""

    code = "face_models_missing"

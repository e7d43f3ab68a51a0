"""The one error hierarchy of the ``vision`` package.

Every error is a ``transcripts.bilingual.BilingualError``: a Vietnamese message (shown first), an
English one, a stable code, details and the HTTP status its meaning calls for (inherited unless
set).
"""

from __future__ import annotations

from transcripts.bilingual import BilingualError


class VisionError(BilingualError):
    """Base class of every error raised by ``vision``."""

    code = "vision_error"


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

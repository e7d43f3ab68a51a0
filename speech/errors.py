"""The one error hierarchy of the ``speech`` package.

Every error is a ``transcripts.bilingual.BilingualError``: a Vietnamese message (shown first), an
English one, a stable code, details and the HTTP status its meaning calls for (inherited unless
set).
"""

from __future__ import annotations

from transcripts.bilingual import BilingualError


class SpeechError(BilingualError):
    """Base class of every error raised by ``speech``."""

    code = "speech_error"


class ModelError(SpeechError):
    """A model that is missing, incomplete, or fails its checksum."""

    code = "speech_model"

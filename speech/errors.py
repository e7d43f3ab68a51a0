"""The one error hierarchy of the ``speech`` package.

Every error carries a Vietnamese message (shown first), an English one and details; the
application maps the classes to HTTP codes.
"""

from __future__ import annotations

from typing import Any


class SpeechError(Exception):
    """Base class of every error raised by ``speech``."""

    code = "speech_error"

    def __init__(self, message_vi: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.details = details


class ModelError(SpeechError):
    """A model that is missing, incomplete, or fails its checksum."""

    code = "speech_model"

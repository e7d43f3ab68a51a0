"""The one error hierarchy of the ``hardware`` package.

Every error carries a Vietnamese message (shown first), an English one and details; the
application maps the classes to HTTP codes and CLI messages.
"""

from __future__ import annotations

from typing import Any


class HardwareError(Exception):
    """Base class of every error raised by ``hardware``."""

    code = "hardware_error"

    def __init__(self, message_vi: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.details = details


class ConfigError(HardwareError):
    """A room configuration that cannot be used: ``details`` name the field and what is accepted."""

    code = "invalid_room_config"


class DeviceError(HardwareError):
    """A device that is missing, busy or cannot do what was asked (channels, sample rate)."""

    code = "device_unavailable"


class RecordingError(HardwareError):
    """The recording folder cannot be written or read back."""

    code = "recording_error"


class MediaError(HardwareError):
    """Media that cannot be read: a file or stream shared by producers and consumers (``hardware.media``)."""

    code = "media_error"


class AudioError(MediaError):
    """A file that is not audio we can read (no audio stream, corrupt, unknown format)."""

    code = "invalid_audio"


class SourceError(MediaError):
    """A frame source (camera, video file) cannot be opened or stopped sending."""

    code = "frame_source"

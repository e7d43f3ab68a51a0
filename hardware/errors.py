"""The one error hierarchy of the ``hardware`` package.

Every error is a ``transcripts.bilingual.BilingualError``: a Vietnamese message (shown first), an
English one, a stable code, details and the HTTP status its meaning calls for (inherited unless
set).
"""

from __future__ import annotations

from transcripts.bilingual import BilingualError


class HardwareError(BilingualError):
    """Base class of every error raised by ``hardware``."""

    code = "hardware_error"


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

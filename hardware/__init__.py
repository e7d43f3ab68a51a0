"""Hardware: room microphones and cameras, and file-backed stand-ins.

A domain package: it never imports ``meeting_room`` and never reads settings or environment
variables; the application passes everything it needs as explicit arguments.
"""

from hardware.errors import ConfigError, DeviceError, HardwareError, RecordingError

__all__ = ["ConfigError", "DeviceError", "HardwareError", "RecordingError"]

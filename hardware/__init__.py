"""Hardware: room microphones and cameras, and file-backed stand-ins.

A domain package: it never imports ``meeting_room`` and never reads settings or environment
variables; the application passes everything it needs as explicit arguments.
"""

from hardware.errors import HardwareError

__all__ = ["HardwareError"]

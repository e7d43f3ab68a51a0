"""Vision: face detection, encoding, the enrolled gallery and matching.

A domain package: it never imports ``meeting_room`` and never reads settings or environment
variables; the application passes everything it needs as explicit arguments.
"""

from vision.errors import VisionError

__all__ = ["VisionError"]

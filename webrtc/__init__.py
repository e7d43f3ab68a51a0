"""WebRTC: aiortc peers for remote participants and their signalling.

A domain package: it never imports ``meeting_room`` and never reads settings or environment
variables; the application passes everything it needs as explicit arguments.
"""

from webrtc.errors import WebRTCError

__all__ = ["WebRTCError"]

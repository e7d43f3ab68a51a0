"""The one error hierarchy of the ``webrtc`` package.

Every error carries a Vietnamese message (shown first), an English one and details; the
application maps the classes to HTTP/WebSocket codes.
"""

from __future__ import annotations

from typing import Any


class WebRTCError(Exception):
    """Base class of every error raised by ``webrtc``."""

    code = "webrtc_error"

    def __init__(self, message_vi: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.details = details


class IceConfigError(WebRTCError):
    """ICE servers (STUN/TURN) that cannot be used: ``details`` name the entry and what is accepted."""

    code = "invalid_ice_config"


class SignallingError(WebRTCError):
    """A signalling message that is not what the protocol accepts (wrong type, bad SDP, wrong order)."""

    code = "invalid_signalling"

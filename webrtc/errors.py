"""The one error hierarchy of the ``webrtc`` package.

Every error is a ``transcripts.bilingual.BilingualError``: a Vietnamese message (shown first), an
English one, a stable code, details and the HTTP status its meaning calls for (inherited unless
set).
"""

from __future__ import annotations

from transcripts.bilingual import BilingualError


class WebRTCError(BilingualError):
    """Base class of every error raised by ``webrtc``."""

    code = "webrtc_error"


class IceConfigError(WebRTCError):
    """ICE servers (STUN/TURN) that cannot be used: ``details`` name the entry and what is accepted."""

    code = "invalid_ice_config"


class SignallingError(WebRTCError):
    """A signalling message that is not what the protocol accepts (wrong type, bad SDP, wrong order)."""

    code = "invalid_signalling"

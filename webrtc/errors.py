"""The one error hierarchy of the ``webrtc`` package."""


class WebRTCError(Exception):
    """Base class of every error raised by ``webrtc``."""

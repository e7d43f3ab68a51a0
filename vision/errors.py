"""The one error hierarchy of the ``vision`` package."""


class VisionError(Exception):
    """Base class of every error raised by ``vision``."""

"""The one error hierarchy of the ``hardware`` package."""


class HardwareError(Exception):
    """Base class of every error raised by ``hardware``."""

"""The one error hierarchy of the ``speech`` package."""


class SpeechError(Exception):
    """Base class of every error raised by ``speech``."""

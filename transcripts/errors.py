"""The one error hierarchy of the ``transcripts`` package."""


class TranscriptError(Exception):
    """Base class of every error raised by ``transcripts``."""

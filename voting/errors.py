"""The one error hierarchy of the ``voting`` package."""


class VotingError(Exception):
    """Base class of every error raised by ``voting``."""

"""The one error hierarchy of the ``voting`` package.

Every error carries a Vietnamese message (shown first), an English one and details naming the
allowed values and the value received; the application maps the classes to HTTP codes.
"""

from __future__ import annotations

from typing import Any


class VotingError(Exception):
    """Base class of every error raised by ``voting``."""

    code = "voting_error"

    def __init__(self, message_vi: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.details = details


class PollDefinitionError(VotingError):
    """A poll that cannot be created as described (options, seats, rule)."""

    code = "invalid_poll"


class RuleError(PollDefinitionError):
    """A majority rule, threshold or preset that does not exist or does not fit the poll."""

    code = "invalid_rule"


class BallotError(VotingError):
    """A ballot that does not fit its poll (unknown option, too many choices, empty opinion)."""

    code = "invalid_ballot"


class PollStateError(VotingError):
    """An action the poll's current state does not allow (a vote after close, opening twice)."""

    code = "poll_state"

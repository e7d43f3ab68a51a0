"""The one error hierarchy of the ``voting`` package.

Every error is a ``transcripts.bilingual.BilingualError``: a Vietnamese message (shown first), an
English one, a stable code, details naming the allowed values and the value received, and the HTTP
status its meaning calls for (inherited unless set).
"""

from __future__ import annotations

from transcripts.bilingual import BilingualError


class VotingError(BilingualError):
    """Base class of every error raised by ``voting``."""

    code = "voting_error"


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

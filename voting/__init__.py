"""Voting: polls, ballots, majority rules, tallies and receipts (pure domain, no I/O).

A domain package: it never imports ``meeting_room`` and never reads settings or environment
variables; the application passes everything it needs as explicit arguments.
"""

from voting.errors import VotingError

__all__ = ["VotingError"]

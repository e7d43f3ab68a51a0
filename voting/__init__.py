"""Voting: polls, ballots, majority rules, tallies and receipts (pure domain, no I/O).

A domain package: it never imports ``meeting_room`` and never reads settings or environment
variables; the application passes everything it needs as explicit arguments.
"""

from voting.errors import BallotError, PollDefinitionError, PollStateError, RuleError, VotingError
from voting.poll import (
    COUNTED,
    MOTION_OPTIONS,
    Choice,
    Eligibility,
    Option,
    PollDefinition,
    PollKind,
    PollState,
    Secrecy,
    check_transition,
    normalise_text,
)
from voting.receipt import new_receipt, normalise_receipt, published_order, receipt_hash
from voting.rules import PRESETS, MajorityBase, Rule, Threshold, custom_rule, preset
from voting.sealing import KeyPair, SealedContent, SealingError
from voting.tally import CastBallot, Electorate, OpinionGroup, OptionResult, Outcome, Result, percent, tally

__all__ = [
    "COUNTED",
    "MOTION_OPTIONS",
    "PRESETS",
    "BallotError",
    "CastBallot",
    "Choice",
    "Electorate",
    "Eligibility",
    "KeyPair",
    "MajorityBase",
    "OpinionGroup",
    "Option",
    "OptionResult",
    "Outcome",
    "PollDefinition",
    "PollDefinitionError",
    "PollKind",
    "PollState",
    "PollStateError",
    "Result",
    "Rule",
    "RuleError",
    "SealedContent",
    "SealingError",
    "Secrecy",
    "Threshold",
    "VotingError",
    "check_transition",
    "custom_rule",
    "new_receipt",
    "normalise_receipt",
    "normalise_text",
    "percent",
    "preset",
    "published_order",
    "receipt_hash",
    "tally",
]

"""Counting ballots and applying the rule: exact, deterministic, and explained in words.

The same function computes the result when a poll closes and again when ``meeting-room verify``
recomputes it from the stored ballots, so any difference means something was changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from voting.poll import Choice, PollDefinition, PollKind
from voting.rules import MajorityBase, Threshold


class Outcome(StrEnum):
    PASSED = "passed"  # motion adopted, option chosen, every seat filled
    FAILED = "failed"
    PARTIAL = "partial"  # an election that filled some seats only
    TIE = "tie"  # equal votes decide nothing: vote again
    NO_QUORUM = "no_quorum"
    COLLECTED = "collected"  # opinions and unweighted questions: counted, nothing decided

    @property
    def label_vi(self) -> str:
        return _OUTCOME_VI[self]


_OUTCOME_VI = {
    Outcome.PASSED: "Thông qua",
    Outcome.FAILED: "Không thông qua",
    Outcome.PARTIAL: "Trúng cử một phần",
    Outcome.TIE: "Số phiếu ngang nhau",
    Outcome.NO_QUORUM: "Không đủ điều kiện biểu quyết",
    Outcome.COLLECTED: "Đã thống kê",
}


@dataclass(frozen=True)
class Electorate:
    """Counts fixed when the poll opened."""

    members: int  # voting members of the meeting (tổng số)
    present: int  # of them, present in the room or online
    eligible: int  # of them, allowed to vote in this poll


@dataclass(frozen=True)
class CastBallot:
    receipt_hash: str
    choice: Choice
    voter_id: str | None = None  # named polls only


@dataclass(frozen=True)
class OptionResult:
    id: str
    label: str
    votes: int
    selected: bool  # adopted / elected / the winning option


@dataclass(frozen=True)
class OpinionGroup:
    text: str
    count: int
    authors: tuple[str, ...]  # voter ids; empty for secret polls


@dataclass(frozen=True)
class Result:
    kind: PollKind
    outcome: Outcome
    ballots_cast: int
    blank: int  # ballots choosing no option (an election ballot striking out everyone)
    electorate: Electorate
    base_count: int
    needed: int | None
    options: tuple[OptionResult, ...]
    winners: tuple[str, ...]
    reason_vi: str
    reason_en: str
    opinions: tuple[OpinionGroup, ...] = field(default=())

    def to_dict(self, definition: PollDefinition) -> dict[str, Any]:
        """A JSON form: what is stored in the log, published, and compared on verification."""
        rule = definition.rule
        return {
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "outcome_label": self.outcome.label_vi,
            "ballots_cast": self.ballots_cast,
            "blank": self.blank,
            "electorate": {"members": self.electorate.members, "present": self.electorate.present, "eligible": self.electorate.eligible},
            "rule": {
                "preset": rule.preset,
                "base": rule.base.value,
                "threshold": str(rule.threshold) if rule.threshold else None,
                "quorum": str(rule.quorum) if rule.quorum else None,
                "description": rule.describe_vi(),
                "description_en": rule.describe_en(),
            },
            "base_count": self.base_count,
            "needed": self.needed,
            "options": [
                {"id": o.id, "label": o.label, "votes": o.votes, "percent": percent(o.votes, self.base_count), "selected": o.selected}
                for o in self.options
            ],
            "winners": list(self.winners),
            "opinions": [{"text": g.text, "count": g.count, "authors": list(g.authors)} for g in self.opinions],
            "reason": self.reason_vi,
            "reason_en": self.reason_en,
        }


def percent(count: int, base: int) -> str | None:
    """Two decimals, rounded half up from the exact fraction ("62.50")."""
    if base <= 0:
        return None
    value = Decimal(count * 100) / Decimal(base)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _vi(number: str | None) -> str:
    return (number or "—").replace(".", ",")


def _base_count(definition: PollDefinition, electorate: Electorate, cast: int, counts: dict[str, int]) -> int:
    base = definition.rule.base
    if base is MajorityBase.MEMBERS:
        return electorate.members
    if base is MajorityBase.PRESENT:
        return electorate.present
    if base is MajorityBase.CAST:
        return cast
    return counts.get("yes", 0) + counts.get("no", 0)


def _opinion_key(text: str) -> str:
    return text.casefold().rstrip(" .!;,…")


def _group_opinions(ballots: list[CastBallot]) -> tuple[OpinionGroup, ...]:
    groups: dict[str, tuple[str, list[str], int]] = {}
    for b in ballots:
        if not b.choice.text:
            continue
        key = _opinion_key(b.choice.text)
        text, authors, count = groups.get(key, (b.choice.text, [], 0))
        if b.voter_id:
            authors.append(b.voter_id)
        groups[key] = (text, authors, count + 1)
    ordered = sorted(groups.values(), key=lambda g: (-g[2], g[0]))
    return tuple(OpinionGroup(text, count, tuple(sorted(authors))) for text, authors, count in ordered)


def tally(definition: PollDefinition, ballots: Iterable[CastBallot], electorate: Electorate) -> Result:
    """Count the ballots and decide under the poll's rule."""
    cast_list = list(ballots)
    for b in cast_list:  # a stored ballot that no longer fits its poll has been tampered with
        definition.check(b.choice.selection, b.choice.text)
    receipts = [b.receipt_hash for b in cast_list]
    if len(set(receipts)) != len(receipts):
        raise ValueError("two ballots share a receipt")
    counts = {o.id: 0 for o in definition.options}
    blank = 0
    for b in cast_list:
        blank += not b.choice.selection
        for option_id in b.choice.selection:
            counts[option_id] += 1
    cast = len(cast_list)
    rule = definition.rule
    base = _base_count(definition, electorate, cast, counts)
    threshold = rule.threshold
    needed = threshold.needed(base) if threshold is not None and base > 0 else None
    opinions = _group_opinions(cast_list) if definition.kind is PollKind.OPINION else ()

    def result(outcome: Outcome, selected: set[str], winners: list[str], vi: str, en: str) -> Result:
        options = tuple(OptionResult(o.id, o.label, counts[o.id], o.id in selected) for o in definition.options)
        return Result(definition.kind, outcome, cast, blank, electorate, base, needed, options, tuple(winners), vi, en, opinions)

    if rule.quorum is not None and not rule.quorum.met(electorate.present, electorate.members):
        q = rule.quorum
        return result(
            Outcome.NO_QUORUM,
            set(),
            [],
            f"Không đủ điều kiện: có mặt {electorate.present}/{electorate.members} thành viên, "
            f"cần {q.label_vi} ({q.needed(electorate.members)} người).",
            f"No quorum: {electorate.present} of {electorate.members} members present; "
            f"{q.label_en} ({q.needed(electorate.members)}) are needed.",
        )
    if definition.kind is PollKind.OPINION:
        return result(
            Outcome.COLLECTED,
            set(),
            [],
            f"Đã thu {cast} phiếu ý kiến của {electorate.eligible} người được lấy ý kiến.",
            f"{cast} opinions collected from {electorate.eligible} eligible members.",
        )
    if definition.kind is PollKind.MOTION:
        return _motion(result, counts["yes"], base, threshold, definition)
    if definition.kind is PollKind.ELECTION:
        return _election(result, counts, base, threshold, definition)
    return _choice(result, counts, base, threshold, definition)


# the poll's Result from an outcome, the selected options, the winners and the two explanations
_Decide = Callable[[Outcome, set[str], list[str], str, str], Result]


def _share_text(votes: int, base: int, definition: PollDefinition) -> tuple[str, str]:
    b = definition.rule.base
    pct = percent(votes, base)
    return (f"{votes}/{base} {b.label_vi} ({_vi(pct)}%)", f"{votes} of {base} {b.label_en} ({pct or '—'}%)")


def _motion(result: _Decide, yes: int, base: int, threshold: Threshold | None, definition: PollDefinition) -> Result:
    assert threshold is not None  # a motion always has one (checked on definition)
    share_vi, share_en = _share_text(yes, base, definition)
    need_vi = f"cần {threshold.label_vi}" + (f" (ít nhất {threshold.needed(base)})" if base else "")
    need_en = f"needs {threshold.label_en}" + (f" (at least {threshold.needed(base)})" if base else "")
    if threshold.met(yes, base):
        return result(
            Outcome.PASSED, {"yes"}, ["yes"], f"Thông qua: tán thành {share_vi}; {need_vi}.", f"Passed: {share_en} in favour; {need_en}."
        )
    return result(
        Outcome.FAILED, set(), [], f"Không thông qua: tán thành {share_vi}; {need_vi}.", f"Failed: {share_en} in favour; {need_en}."
    )


def _ranked(counts: dict[str, int], definition: PollDefinition) -> list[str]:
    order = {o.id: i for i, o in enumerate(definition.options)}
    return sorted(counts, key=lambda o: (-counts[o], order[o]))


def _names(ids: list[str], definition: PollDefinition) -> str:
    return ", ".join(definition.label(i) for i in ids)


def _election(result: _Decide, counts: dict[str, int], base: int, threshold: Threshold | None, definition: PollDefinition) -> Result:
    seats = definition.seats or 1
    qualified = [o for o in _ranked(counts, definition) if counts[o] > 0 and (threshold is None or threshold.met(counts[o], base))]
    need_vi = (
        f"cần {threshold.label_vi} {definition.rule.base.label_vi} ({threshold.needed(base)} phiếu)" if threshold else "nhiều phiếu nhất"
    )
    need_en = (
        f"needs {threshold.label_en} of {definition.rule.base.label_en} ({threshold.needed(base)} votes)" if threshold else "most votes"
    )
    if len(qualified) > seats and counts[qualified[seats - 1]] == counts[qualified[seats]]:
        tied_votes = counts[qualified[seats]]
        winners = [o for o in qualified if counts[o] > tied_votes]
        tied = [o for o in qualified if counts[o] == tied_votes]
        return result(
            Outcome.TIE,
            set(winners),
            winners,
            f"Trúng cử: {_names(winners, definition) or 'chưa có'}; ngang phiếu ({tied_votes}) giữa {_names(tied, definition)} "
            f"cho {seats - len(winners)} chỗ còn lại: cần bầu lại.",
            f"Elected: {_names(winners, definition) or 'nobody yet'}; a tie ({tied_votes} votes) between "
            f"{_names(tied, definition)} for {seats - len(winners)} remaining seat(s): vote again.",
        )
    winners = qualified[:seats]
    if not winners:
        return result(Outcome.FAILED, set(), [], f"Không ai trúng cử; {need_vi}.", f"Nobody elected; {need_en}.")
    outcome = Outcome.PASSED if len(winners) == seats else Outcome.PARTIAL
    return result(
        outcome,
        set(winners),
        winners,
        f"Trúng cử ({len(winners)}/{seats}): {_names(winners, definition)}; {need_vi}.",
        f"Elected ({len(winners)} of {seats}): {_names(winners, definition)}; {need_en}.",
    )


def _choice(result: _Decide, counts: dict[str, int], base: int, threshold: Threshold | None, definition: PollDefinition) -> Result:
    ranked = _ranked(counts, definition)
    if definition.kind is PollKind.MULTIPLE_CHOICE:
        if threshold is None:
            return result(
                Outcome.COLLECTED,
                set(),
                [],
                "Đã thống kê số phiếu của từng phương án.",
                "The votes for each option have been counted.",
            )
        chosen = [o for o in ranked if threshold.met(counts[o], base)]
        if not chosen:
            return result(
                Outcome.FAILED,
                set(),
                [],
                f"Không phương án nào đạt {threshold.label_vi} {definition.rule.base.label_vi}.",
                f"No option reached {threshold.label_en} of {definition.rule.base.label_en}.",
            )
        return result(
            Outcome.PASSED,
            set(chosen),
            chosen,
            f"Các phương án đạt {threshold.label_vi} {definition.rule.base.label_vi}: {_names(chosen, definition)}.",
            f"Options reaching {threshold.label_en} of {definition.rule.base.label_en}: {_names(chosen, definition)}.",
        )
    top = ranked[0]
    if counts[top] == 0:
        return result(Outcome.FAILED, set(), [], "Không có phiếu nào.", "No votes.")
    if len(ranked) > 1 and counts[ranked[1]] == counts[top]:
        tied = [o for o in ranked if counts[o] == counts[top]]
        return result(
            Outcome.TIE,
            set(),
            [],
            f"Ngang phiếu ({counts[top]}) giữa {_names(tied, definition)}: cần biểu quyết lại.",
            f"A tie ({counts[top]} votes) between {_names(tied, definition)}: vote again.",
        )
    share_vi, share_en = _share_text(counts[top], base, definition)
    label = definition.label(top)
    if threshold is not None and not threshold.met(counts[top], base):
        return result(
            Outcome.FAILED,
            set(),
            [],
            f"Không phương án nào đạt {threshold.label_vi}: “{label}” được {share_vi}.",
            f"No option reached {threshold.label_en}: {label!r} got {share_en}.",
        )
    return result(
        Outcome.PASSED,
        {top},
        [top],
        f"Phương án “{label}” được chọn với {share_vi}.",
        f"Option {label!r} chosen with {share_en}.",
    )

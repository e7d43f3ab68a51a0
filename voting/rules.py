"""Majority rules: who counts (the base), how many must agree (the threshold), and the quorum.

Arithmetic is exact (``fractions.Fraction``): "more than half of 51" is 26, never 25.5 rounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from voting.errors import RuleError


class MajorityBase(StrEnum):
    """What the threshold is a share of."""

    MEMBERS = "members"  # every voting member of the meeting (tổng số thành viên / đại biểu)
    PRESENT = "present"  # members present when the vote opened
    CAST = "cast"  # ballots cast, "Không biểu quyết" included
    YES_NO = "yes_no"  # Tán thành + Không tán thành (motions only)

    @property
    def label_vi(self) -> str:
        return _BASE_VI[self]

    @property
    def label_en(self) -> str:
        return _BASE_EN[self]


_BASE_VI = {
    MajorityBase.MEMBERS: "tổng số thành viên",
    MajorityBase.PRESENT: "số thành viên có mặt",
    MajorityBase.CAST: "số phiếu biểu quyết",
    MajorityBase.YES_NO: "số phiếu tán thành và không tán thành",
}
_BASE_EN = {
    MajorityBase.MEMBERS: "all members",
    MajorityBase.PRESENT: "members present",
    MajorityBase.CAST: "ballots cast",
    MajorityBase.YES_NO: "votes for and against",
}

_THRESHOLD = re.compile(r"^\s*(>=|>|≥)\s*([0-9]+)\s*/\s*([0-9]+)\s*$")  # ASCII digits: what the rule is stored and shown as


@dataclass(frozen=True)
class Threshold:
    """``> n/d`` (strictly more than) or ``>= n/d`` (at least) of a base."""

    fraction: Fraction
    strict: bool

    def __post_init__(self) -> None:
        if not 0 < self.fraction <= 1:
            raise RuleError(
                f"Ngưỡng phải nằm trong (0, 1], nhận được {self.fraction}",
                f"A threshold must lie in (0, 1], got {self.fraction}",
                received=str(self.fraction),
            )
        if self.strict and self.fraction == 1:
            raise RuleError("Ngưỡng “quá 1/1” không bao giờ đạt được", "A threshold of '> 1/1' can never be met", received="> 1/1")

    @classmethod
    def parse(cls, text: str) -> Threshold:
        """``"> 1/2"``, ``">= 2/3"``, ``"≥ 65/100"``."""
        match = _THRESHOLD.match(text or "")
        if not match or int(match.group(3)) == 0:
            raise RuleError(
                f"Ngưỡng “{text}” không hợp lệ; hãy viết như “> 1/2” (quá một nửa) hoặc “>= 2/3” (ít nhất hai phần ba)",
                f"Threshold {text!r} is not valid; write it like '> 1/2' (more than half) or '>= 2/3' (at least two thirds)",
                received=text,
                accepted=["> n/d", ">= n/d"],
            )
        return cls(Fraction(int(match.group(2)), int(match.group(3))), match.group(1) == ">")

    def met(self, count: int, base: int) -> bool:
        if base <= 0:
            return False
        share = Fraction(count, base)
        return share > self.fraction if self.strict else share >= self.fraction

    def needed(self, base: int) -> int:
        """The smallest count that meets the threshold out of ``base`` (exact)."""
        bound = self.fraction * base
        floor = bound.numerator // bound.denominator
        if self.strict:
            return floor + 1
        return floor if floor == bound else floor + 1

    def __str__(self) -> str:
        return f"{'>' if self.strict else '>='} {self.fraction.numerator}/{self.fraction.denominator}"

    @property
    def label_vi(self) -> str:
        return f"{'quá' if self.strict else 'ít nhất'} {self.fraction.numerator}/{self.fraction.denominator}"

    @property
    def label_en(self) -> str:
        return f"{'more than' if self.strict else 'at least'} {self.fraction.numerator}/{self.fraction.denominator}"


@dataclass(frozen=True)
class Rule:
    """How a poll is decided.

    ``threshold`` of ``base`` must agree; ``quorum``, when set, is the share of all members that
    must be present when the vote opens for the result to be valid. ``threshold=None`` means the
    most votes win (a relative majority), which only choice questions and elections allow.
    """

    base: MajorityBase
    threshold: Threshold | None
    quorum: Threshold | None = None
    preset: str | None = None
    label_vi: str = ""
    label_en: str = ""
    legal_basis: str | None = None

    def describe_vi(self) -> str:
        if self.threshold is None:
            text = "đa số tương đối (nhiều phiếu nhất)"
        else:
            text = f"{self.threshold.label_vi} {self.base.label_vi} tán thành"
        if self.quorum is not None:
            text += f"; điều kiện: có mặt {self.quorum.label_vi} tổng số thành viên"
        return text

    def describe_en(self) -> str:
        if self.threshold is None:
            text = "relative majority (most votes)"
        else:
            text = f"{self.threshold.label_en} of {self.base.label_en} in favour"
        if self.quorum is not None:
            text += f"; quorum: {self.quorum.label_en} of all members present"
        return text


_HALF = Threshold(Fraction(1, 2), strict=True)
_TWO_THIRDS = Threshold(Fraction(2, 3), strict=False)
_LGL = "Luật Tổ chức chính quyền địa phương"


def _preset_name(rule: Rule) -> str:
    assert rule.preset is not None, "a preset has a name"
    return rule.preset


# The common Vietnamese cases. The law sets the base and threshold; the quorum is the condition
# for the sitting itself (at least two thirds of the members present).
PRESETS: dict[str, Rule] = {
    _preset_name(rule): rule
    for rule in (
        Rule(
            MajorityBase.MEMBERS,
            _HALF,
            _TWO_THIRDS,
            "hdnd_resolution",
            "Nghị quyết HĐND: quá nửa tổng số đại biểu HĐND tán thành",
            "People's Council resolution: more than half of ALL delegates in favour",
            _LGL,
        ),
        Rule(
            MajorityBase.MEMBERS,
            _TWO_THIRDS,
            _TWO_THIRDS,
            "hdnd_two_thirds",
            "Bãi nhiệm, miễn nhiệm theo luật định: ít nhất hai phần ba tổng số đại biểu HĐND tán thành",
            "Dismissal and other two-thirds matters: at least two thirds of ALL delegates in favour",
            _LGL,
        ),
        Rule(
            MajorityBase.MEMBERS,
            _HALF,
            _TWO_THIRDS,
            "hdnd_election",
            "Bầu chức danh: người trúng cử được quá nửa tổng số đại biểu HĐND đồng ý",
            "Election: a candidate is elected with more than half of ALL delegates",
            _LGL,
        ),
        Rule(
            MajorityBase.MEMBERS,
            _HALF,
            _TWO_THIRDS,
            "ubnd_decision",
            "Quyết định tập thể UBND: quá nửa tổng số thành viên UBND tán thành",
            "People's Committee decision: more than half of ALL committee members in favour",
            _LGL,
        ),
        Rule(
            MajorityBase.PRESENT,
            _HALF,
            None,
            "majority_present",
            "Quá nửa số thành viên có mặt tán thành",
            "More than half of the members present in favour",
        ),
        Rule(
            MajorityBase.CAST,
            _HALF,
            None,
            "majority_cast",
            "Quá nửa số phiếu biểu quyết tán thành",
            "More than half of the ballots cast in favour",
        ),
        Rule(
            MajorityBase.YES_NO,
            _HALF,
            None,
            "simple_majority",
            "Đa số đơn giản: phiếu tán thành nhiều hơn phiếu không tán thành",
            "Simple majority: more votes for than against",
        ),
        Rule(
            MajorityBase.CAST,
            None,
            None,
            "plurality",
            "Đa số tương đối: phương án nhiều phiếu nhất",
            "Relative majority: the option with the most votes",
        ),
    )
}


def preset(name: str) -> Rule:
    try:
        return PRESETS[name]
    except KeyError:
        raise RuleError(
            f"Không có quy tắc biểu quyết “{name}”. Có: {', '.join(PRESETS)}",
            f"No voting rule preset {name!r}. Available: {', '.join(PRESETS)}",
            received=name,
            accepted=list(PRESETS),
        ) from None


def custom_rule(base: str, threshold: str | None, quorum: str | None = None) -> Rule:
    """A rule from its parts, e.g. ``custom_rule("present", ">= 3/5")``."""
    try:
        majority_base = MajorityBase(base)
    except ValueError:
        raise RuleError(
            f"Cơ sở tính tỷ lệ “{base}” không hợp lệ",
            f"Majority base {base!r} is not valid",
            received=base,
            accepted=[b.value for b in MajorityBase],
        ) from None
    parsed = Threshold.parse(threshold) if threshold is not None else None
    rule = Rule(majority_base, parsed, Threshold.parse(quorum) if quorum else None)
    return Rule(rule.base, rule.threshold, rule.quorum, None, rule.describe_vi(), rule.describe_en())

"""Thresholds and presets: exact arithmetic at the boundaries that decide real votes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from voting import MajorityBase, RuleError, Threshold, custom_rule, preset


@pytest.mark.parametrize(
    ("text", "base", "needed"),
    [
        ("> 1/2", 50, 26),  # exactly half is not "more than half"
        ("> 1/2", 51, 26),
        ("> 1/2", 1, 1),
        (">= 2/3", 60, 40),
        (">= 2/3", 61, 41),  # 40.67 rounds up, never down
        (">= 2/3", 3, 2),
        ("≥ 3/5", 10, 6),
        (">=1/1", 7, 7),
    ],
)
def test_needed_is_the_exact_smallest_count(text: str, base: int, needed: int) -> None:
    t = Threshold.parse(text)
    assert t.needed(base) == needed
    assert t.met(needed, base) and not t.met(needed - 1, base)


def test_zero_base_never_passes() -> None:
    assert not Threshold.parse("> 1/2").met(0, 0)


@pytest.mark.parametrize(
    "text", ["1/2", "> 1/0", "> 3/2", "> 1/1", "more than half", "", ">= -1/2", "> ١/٢", "> １/２"]  # the last two: other scripts' digits
)
def test_bad_thresholds_name_the_accepted_form(text: str) -> None:
    with pytest.raises(RuleError) as info:
        Threshold.parse(text)
    assert info.value.message_vi and info.value.message_en


def test_presets_match_the_law() -> None:
    resolution = preset("hdnd_resolution")
    assert (resolution.base, str(resolution.threshold), str(resolution.quorum)) == (MajorityBase.MEMBERS, "> 1/2", ">= 2/3")
    dismissal = preset("hdnd_two_thirds")
    assert (dismissal.base, dismissal.threshold and dismissal.threshold.fraction) == (MajorityBase.MEMBERS, Fraction(2, 3))
    assert preset("ubnd_decision").base is MajorityBase.MEMBERS
    assert preset("plurality").threshold is None
    assert "quá 1/2 tổng số thành viên" in resolution.describe_vi()


def test_unknown_preset_lists_the_available_ones() -> None:
    with pytest.raises(RuleError) as info:
        preset("unanimous")
    assert "hdnd_resolution" in info.value.details["accepted"]


def test_custom_rule() -> None:
    rule = custom_rule("present", ">= 3/5", "> 1/2")
    assert rule.threshold == Threshold(Fraction(3, 5), strict=False)
    assert rule.label_vi.startswith("ít nhất 3/5 số thành viên có mặt")
    with pytest.raises(RuleError):
        custom_rule("everyone", "> 1/2")

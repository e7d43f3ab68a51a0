"""Poll definitions and the ballots that fit them."""

from __future__ import annotations

from typing import Any

import pytest

from voting import (
    BallotError,
    Option,
    PollDefinition,
    PollDefinitionError,
    PollKind,
    PollState,
    PollStateError,
    check_transition,
    new_receipt,
    normalise_receipt,
    preset,
    receipt_hash,
)

RULE = preset("hdnd_resolution")


def _candidates(n: int) -> list[Option]:
    return [Option(f"c{i}", f"Ứng cử viên {i}") for i in range(n)]


def test_motion_has_the_three_vietnamese_options() -> None:
    d = PollDefinition.build(PollKind.MOTION, RULE)
    assert [o.label for o in d.options] == ["Tán thành", "Không tán thành", "Không biểu quyết"]
    assert d.check(["no"]).selection == ("no",)
    with pytest.raises(BallotError) as info:
        d.check(["yes", "no"])
    assert "đúng 1" in info.value.message_vi
    with pytest.raises(BallotError) as info:
        d.check(["maybe"])
    assert info.value.details["accepted"] == ["abstain", "no", "yes"]


def test_election_ballot_may_strike_out_everyone_but_not_exceed_seats() -> None:
    d = PollDefinition.build(PollKind.ELECTION, preset("hdnd_election"), options=_candidates(4), seats=2)
    assert d.check([]).selection == ()
    assert d.check(["c3", "c1"]).selection == ("c1", "c3")
    with pytest.raises(BallotError):
        d.check(["c0", "c1", "c2"])
    with pytest.raises(BallotError):
        d.check(["c0", "c0"])


def test_opinion_needs_text_or_an_option_and_normalises_text() -> None:
    d = PollDefinition.build(PollKind.OPINION, preset("plurality"), options=[Option("a", "Đồng ý"), Option("b", "Cần bổ sung")])
    choice = d.check([], "  Đề nghị   bổ sung\u0301 kinh phí ")  # combining accent -> NFC
    assert choice.text == "Đề nghị bổ sunǵ kinh phí"
    with pytest.raises(BallotError):
        d.check([], "   ")
    with pytest.raises(BallotError):
        d.check([], "x" * 5000)


def test_text_only_on_opinion_polls() -> None:
    d = PollDefinition.build(PollKind.MOTION, RULE)
    with pytest.raises(BallotError):
        d.check(["yes"], "lý do")


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [
        (PollKind.SINGLE_CHOICE, {"options": [Option("a", "Một")]}),
        (PollKind.SINGLE_CHOICE, {"options": [Option("a", "Một"), Option("a", "Hai")]}),
        (PollKind.SINGLE_CHOICE, {"options": [Option("a", "Một"), Option("b", " một ")]}),
        (PollKind.ELECTION, {"options": _candidates(2), "seats": 3}),
        (PollKind.ELECTION, {"options": _candidates(2)}),
        (PollKind.MULTIPLE_CHOICE, {"options": _candidates(3), "max_choices": 4}),
        (PollKind.MOTION, {"options": [Option("yes", "Có"), Option("no", "Không")]}),
        (PollKind.SINGLE_CHOICE, {"options": _candidates(2), "max_choices": 2}),
    ],
)
def test_definitions_that_make_no_sense_are_refused(kind: PollKind, kwargs: dict[str, Any]) -> None:
    with pytest.raises(PollDefinitionError):
        PollDefinition.build(kind, preset("plurality") if kind is not PollKind.MOTION else RULE, **kwargs)


def test_yes_no_base_and_relative_majority_only_fit_where_they_mean_something() -> None:
    with pytest.raises(PollDefinitionError):
        PollDefinition.build(PollKind.SINGLE_CHOICE, preset("simple_majority"), options=_candidates(2))
    with pytest.raises(PollDefinitionError):
        PollDefinition.build(PollKind.MOTION, preset("plurality"))


def test_lifecycle() -> None:
    check_transition("p", PollState.CREATED, PollState.OPEN)
    check_transition("p", PollState.CLOSED, PollState.PUBLISHED)
    with pytest.raises(PollStateError) as info:
        check_transition("p", PollState.CLOSED, PollState.OPEN)
    assert info.value.details["allowed"] == ["cancelled", "published"]
    with pytest.raises(PollStateError):
        check_transition("p", PollState.PUBLISHED, PollState.CANCELLED)


def test_receipts_are_random_typeable_and_bound_to_the_poll() -> None:
    codes = {new_receipt() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert normalise_receipt(code.lower().replace("-", " ")) == code
    assert normalise_receipt("ABCD-EFGH") is None
    assert receipt_hash("p1", code) != receipt_hash("p2", code)


def test_every_place_of_a_receipt_takes_every_symbol() -> None:
    """80 random bits, 5 to a symbol: no place is stuck or left out (2,000 codes: a given symbol is
    missing from a given place with probability (31/32)^2000, about 1e-28)."""
    codes = [new_receipt().replace("-", "") for _ in range(2000)]
    for place in range(16):
        assert {c[place] for c in codes} == set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")

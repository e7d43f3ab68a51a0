"""Tallies under the Vietnamese presets: the cases that decide real votes."""

from __future__ import annotations

import pytest

from voting import (
    BallotError,
    CastBallot,
    Choice,
    Electorate,
    Option,
    Outcome,
    PollDefinition,
    PollKind,
    custom_rule,
    preset,
    tally,
)


def _ballots(*selections: tuple[str, ...] | str, texts: list[str] | None = None, voters: bool = False) -> list[CastBallot]:
    out = []
    for i, sel in enumerate(selections):
        chosen = (sel,) if isinstance(sel, str) else tuple(sorted(sel))
        text = texts[i] if texts else None
        out.append(CastBallot(f"r{i:04d}", Choice(chosen, text), f"m{i}" if voters else None))
    return out


def _motion(preset_name: str, yes: int, no: int, abstain: int, members: int, present: int) -> Outcome:
    d = PollDefinition.build(PollKind.MOTION, preset(preset_name))
    ballots = _ballots(*(["yes"] * yes + ["no"] * no + ["abstain"] * abstain))
    return tally(d, ballots, Electorate(members, present, present)).outcome


# (preset, yes, no, abstain, members, present, expected) — the table in the README.
CASES = [
    ("hdnd_resolution", 26, 10, 4, 50, 40, Outcome.PASSED),  # 26 > 25 = half of ALL 50
    ("hdnd_resolution", 25, 0, 15, 50, 40, Outcome.FAILED),  # exactly half of all is not enough
    ("hdnd_resolution", 25, 5, 3, 50, 33, Outcome.NO_QUORUM),  # 33 < 34 = 2/3 of 50 present
    ("hdnd_resolution", 26, 0, 8, 51, 34, Outcome.PASSED),  # 51 members: 26 needed
    ("hdnd_two_thirds", 34, 6, 0, 51, 40, Outcome.PASSED),  # 34 >= 34 = 2/3 of 51
    ("hdnd_two_thirds", 33, 7, 0, 51, 40, Outcome.FAILED),
    ("ubnd_decision", 8, 0, 0, 15, 10, Outcome.PASSED),  # 8 > 7.5
    ("ubnd_decision", 7, 3, 0, 15, 10, Outcome.FAILED),
    ("majority_present", 11, 5, 4, 50, 20, Outcome.PASSED),  # 11 > 10 of 20 present
    ("majority_present", 10, 5, 5, 50, 20, Outcome.FAILED),
    ("majority_cast", 6, 3, 2, 50, 20, Outcome.PASSED),  # 6 > 5.5 of 11 cast
    ("majority_cast", 5, 4, 1, 50, 20, Outcome.FAILED),  # 5 of 10 cast is not more than half
    ("simple_majority", 5, 4, 11, 50, 20, Outcome.PASSED),  # abstentions do not count
    ("simple_majority", 4, 4, 0, 50, 20, Outcome.FAILED),
]


@pytest.mark.parametrize(("name", "yes", "no", "abstain", "members", "present", "expected"), CASES)
def test_motion_presets(name: str, yes: int, no: int, abstain: int, members: int, present: int, expected: Outcome) -> None:
    assert _motion(name, yes, no, abstain, members, present) is expected


def test_reason_says_why_in_both_languages() -> None:
    d = PollDefinition.build(PollKind.MOTION, preset("hdnd_resolution"))
    r = tally(d, _ballots(*(["yes"] * 26 + ["no"] * 14)), Electorate(50, 40, 40))
    assert r.reason_vi == "Thông qua: tán thành 26/50 tổng số thành viên (52,00%); cần quá 1/2 (ít nhất 26)."
    assert r.reason_en == "Passed: 26 of 50 all members (52.00%) in favour; needs more than 1/2 (at least 26)."
    data = r.to_dict(d)
    assert data["options"][0] == {"id": "yes", "label": "Tán thành", "votes": 26, "percent": "52.00", "selected": True}
    assert data["needed"] == 26 and data["rule"]["threshold"] == "> 1/2"


def test_election_fills_seats_by_votes_among_those_over_the_threshold() -> None:
    cands = [Option(f"c{i}", n) for i, n in enumerate(["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"])]
    d = PollDefinition.build(PollKind.ELECTION, preset("hdnd_election"), options=cands, seats=2)
    # 10 members all present: more than half of ALL = 6 votes needed
    ballots = _ballots(*([("c0", "c1")] * 4 + [("c0", "c2")] * 3 + [("c2",)] * 2 + [()]))
    r = tally(d, ballots, Electorate(10, 10, 10))
    assert r.winners == ("c0",) and r.outcome is Outcome.PARTIAL  # c0: 7; c2: 5 and c1: 4 fall short
    assert r.blank == 1 and "Nguyễn Văn An" in r.reason_vi


def test_election_tie_at_the_last_seat_asks_for_another_round() -> None:
    cands = [Option(f"c{i}", f"Ứng viên {i}") for i in range(3)]
    d = PollDefinition.build(PollKind.ELECTION, preset("hdnd_election"), options=cands, seats=2)
    ballots = _ballots(*([("c0", "c1")] * 3 + [("c0", "c2")] * 3 + [("c1", "c2")] * 1))
    r = tally(d, ballots, Electorate(7, 7, 7))  # c0 6, c1 4, c2 4; 4 > 3.5 qualifies both
    assert r.outcome is Outcome.TIE and r.winners == ("c0",)
    assert "bầu lại" in r.reason_vi


def test_single_choice_plurality_and_ties() -> None:
    opts = [Option("a", "Phương án A"), Option("b", "Phương án B"), Option("c", "Phương án C")]
    d = PollDefinition.build(PollKind.SINGLE_CHOICE, preset("plurality"), options=opts)
    assert tally(d, _ballots("a", "a", "b", "c"), Electorate(5, 5, 5)).winners == ("a",)
    assert tally(d, _ballots("a", "b"), Electorate(5, 5, 5)).outcome is Outcome.TIE
    strict = PollDefinition.build(PollKind.SINGLE_CHOICE, custom_rule("cast", "> 1/2"), options=opts)
    r = tally(strict, _ballots("a", "a", "b", "c"), Electorate(5, 5, 5))
    assert r.outcome is Outcome.FAILED  # 2 of 4 is not more than half


def test_multiple_choice_with_and_without_threshold() -> None:
    opts = [Option(x, f"Ngày {x}") for x in "abc"]
    d = PollDefinition.build(PollKind.MULTIPLE_CHOICE, preset("plurality"), options=opts)
    r = tally(d, _ballots(("a", "b"), ("a",), ("c",)), Electorate(3, 3, 3))
    assert r.outcome is Outcome.COLLECTED and [o.votes for o in r.options] == [2, 1, 1]
    d2 = PollDefinition.build(PollKind.MULTIPLE_CHOICE, custom_rule("cast", "> 1/2"), options=opts)
    assert tally(d2, _ballots(("a", "b"), ("a",), ("c",)), Electorate(3, 3, 3)).winners == ("a",)


def test_opinions_are_grouped_and_attributed_only_when_named() -> None:
    d = PollDefinition.build(PollKind.OPINION, preset("plurality"), options=[Option("ok", "Nhất trí"), Option("add", "Bổ sung")])
    texts = ["Đề nghị bổ sung kinh phí.", "đề nghị bổ sung kinh phí", "Nhất trí với tờ trình", ""]
    ballots = [CastBallot(f"r{i}", Choice(("add",) if i < 2 else ("ok",), t or None), f"m{i}") for i, t in enumerate(texts)]
    r = tally(d, ballots, Electorate(4, 4, 4))
    assert r.outcome is Outcome.COLLECTED
    assert [(g.text, g.count, g.authors) for g in r.opinions] == [
        ("Đề nghị bổ sung kinh phí.", 2, ("m0", "m1")),
        ("Nhất trí với tờ trình", 1, ("m2",)),
    ]
    anonymous = [CastBallot(b.receipt_hash, b.choice) for b in ballots]
    assert all(g.authors == () for g in tally(d, anonymous, Electorate(4, 4, 4)).opinions)


def test_a_tampered_ballot_is_refused_by_the_count() -> None:
    d = PollDefinition.build(PollKind.MOTION, preset("majority_cast"))
    with pytest.raises(BallotError, match="exactly 1"):
        tally(d, [CastBallot("r1", Choice(("no", "yes")))], Electorate(3, 3, 3))
    with pytest.raises(BallotError, match="Unknown option"):
        tally(d, [CastBallot("r2", Choice(("maybe",)))], Electorate(3, 3, 3))
    with pytest.raises(ValueError):
        tally(d, [CastBallot("r1", Choice(("yes",))), CastBallot("r1", Choice(("no",)))], Electorate(3, 3, 3))

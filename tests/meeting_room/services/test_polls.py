"""Polls through the store, on SQLite and PostgreSQL: secrecy, one ballot each, verification."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from meeting_room import events as ev
from meeting_room.attendance import AttendanceStatus
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, MeetingRoomError, NotFoundError, PermissionDeniedError
from meeting_room.lifecycle import MeetingState
from meeting_room.roles import Role
from meeting_room.services import attendance, meetings, members, polls
from meeting_room.store import Decided
from tests.conftest import World, snapshot
from voting import BallotError, PollKind, PollStateError, Secrecy, published_order, receipt_hash

VOTERS = ("chair", "secretary", "member1", "member2")


def _in_session(world: World, present: tuple[str, ...] = VOTERS) -> None:
    chair = world.actor("chair")
    meetings.transition(world.store, chair, world.meeting_id, MeetingState.OPEN)
    meetings.transition(world.store, chair, world.meeting_id, MeetingState.IN_SESSION)
    for who in present:
        attendance.record(world.store, chair, world.meeting_id, world.ids[who], AttendanceStatus.PRESENT_IN_ROOM)


def _poll(world: World, **spec: Any) -> str:
    return polls.create_poll(world.store, world.actor("secretary"), world.meeting_id, polls.PollSpec(title="Thông qua dự toán", **spec))


def _vote(world: World, poll_id: str, who: str, *options: str, text_: str | None = None, receipt: str | None = None) -> polls.CastReceipt:
    return polls.cast_ballot(world.store, world.actor(who), poll_id, list(options), text_, receipt)


def test_secret_ballots_never_meet_their_voters(any_world: World) -> None:
    world = any_world
    _in_session(world)
    pid = _poll(world, secrecy=Secrecy.SECRET, rule=ev.RuleSpec(preset="majority_present"))
    polls.open_poll(world.store, world.actor("chair"), pid)
    given = {who: _vote(world, pid, who, choice).receipt for who, choice in zip(VOTERS, ("yes", "yes", "no", "abstain"), strict=True)}
    receipts = {who: receipt for who, receipt in given.items() if receipt is not None}
    assert receipts.keys() == given.keys()  # a secret ballot always gives one

    with world.store.read() as session:
        assert session.scalars(select(t.BallotBox).where(t.BallotBox.poll_id == pid)).all() == []
        sealed = session.scalars(select(t.SealedBallot).where(t.SealedBallot.poll_id == pid)).all()
        # one sealed ballot per voter, all of one length, none readable
        assert len(sealed) == 4 and len({len(b.sealed) for b in sealed}) == 1
        # quoted as a ballot's JSON has them: a bare b"no" turns up in random ciphertext about once in 80 runs
        plain = (b'"yes"', b'"no"', b'"abstain"', *(r.encode() for r in receipts.values()))
        assert not any(word in b.sealed for b in sealed for word in plain)
        assert len(session.scalars(select(t.PollKeyShare).where(t.PollKeyShare.poll_id == pid)).all()) == 2
    cast_events = [e for e in world.store.events(meeting_id=world.meeting_id) if e.type == "poll.ballot_cast"]
    assert [e.data["ballots_cast"] for e in cast_events] == [1, 2, 3, 4]
    assert all(set(e.data) == {"meeting_id", "poll_id", "voter_id", "ballots_cast", "eligible", "replaced"} for e in cast_events)

    closed = polls.close_poll(world.store, world.actor("chair"), pid)
    in_order = [published_order(b.selection, b.text, b.receipt_hash) for b in closed.ballots]
    assert in_order == sorted(in_order)  # by content: neither cast order nor a receipt's hash tells whose
    assert all(b.voter_id is None for b in closed.ballots)
    assert closed.result["outcome"] == "failed" and closed.result["options"][0]["votes"] == 2  # 2 of 4 present is not more than half
    assert world.store.ballot_keys.private(pid) is None  # the key is gone from memory
    with world.store.read() as session:
        for table in (t.BallotBox, t.SealedBallot, t.PollKeyShare):
            assert session.scalars(select(table)).all() == []
        poll = session.get_one(t.Poll, pid)
        mine = polls.check_receipt(session, world.actor("member1"), poll, receipts["member1"])
        theirs = polls.check_receipt(session, world.actor("member2"), poll, receipts["member1"])
    assert mine.found and mine.own and mine.selection == ["no"]
    assert theirs.found and not theirs.own and theirs.selection == [] and theirs.text is None  # a coercer learns only "counted"


def test_one_ballot_per_member_is_enforced_by_the_database(any_world: World) -> None:
    world = any_world
    _in_session(world)
    pid = _poll(world)
    polls.open_poll(world.store, world.actor("chair"), pid)
    _vote(world, pid, "member1", "yes")
    before = snapshot(world.store)
    with pytest.raises(ConflictError, match="đã bỏ phiếu"):
        _vote(world, pid, "member1", "no")
    # Bypass the service's check: the primary key of poll_voters still refuses the second ballot.
    with pytest.raises(ConflictError):
        world.store.append(
            ev.BallotCast(meeting_id=world.meeting_id, poll_id=pid, voter_id=world.ids["member1"], ballots_cast=2, eligible=4)
        )
    assert snapshot(world.store) == before


def test_concurrent_voters_are_each_counted_once(any_world: World) -> None:
    world = any_world
    _in_session(world)
    pid = _poll(world)
    polls.open_poll(world.store, world.actor("chair"), pid)
    errors: list[Exception] = []

    def vote(who: str) -> None:
        for _ in range(3):  # a double submit from the same tablet, at the same moment
            try:
                _vote(world, pid, who, "yes")
            except ConflictError:
                pass
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=vote, args=(who,)) for who in VOTERS for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    closed = polls.close_poll(world.store, world.actor("chair"), pid)
    assert len(closed.ballots) == 4 and closed.result["options"][0]["votes"] == 4
    assert polls.verify_polls(world.store).ok


def _while_the_writer_is_held(world: World, asks: list[tuple[str, Any]]) -> dict[str, Any]:
    """Run the asks (name, call) while another decision holds the store's writer, so that all of them
    queue and the next writer decides them as one group, as a hall's tablets pressing together do."""
    holding, release, outcomes = threading.Event(), threading.Event(), {}

    def hold(session: Any) -> Decided[None]:
        holding.set()
        release.wait(60)
        return Decided(ev.BodyCreated(body_id="held", name="Ủy ban nhân dân xã Giữ Chỗ", short_name="UBND"), None)

    def run(name: str, call: Any) -> None:
        try:
            outcomes[name] = call()
        except Exception as exc:
            outcomes[name] = exc

    holder = threading.Thread(target=lambda: world.store.decide(hold))
    holder.start()
    assert holding.wait(30)
    threads = []
    for name, call in asks:  # one by one: the queue keeps this order
        threads.append(threading.Thread(target=run, args=(name, call)))
        threads[-1].start()
        deadline = time.monotonic() + 30
        while world.store.queued() < len(threads) and time.monotonic() < deadline:
            time.sleep(0.005)
    assert world.store.queued() == len(asks)
    release.set()
    for th in [holder, *threads]:
        th.join(60)
    return outcomes


def test_ballots_sent_together_are_decided_together_each_by_the_rules_of_one(any_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hall pressing at once: the queued ballots of a poll are decided by one call, and each gets the
    answer it would get alone: a receipt, or its own refusal with nothing of it stored."""
    world = any_world
    _in_session(world, present=(*VOTERS, "guest"))
    pid = _poll(world, secrecy=Secrecy.SECRET, rule=ev.RuleSpec(preset="majority_present"))
    polls.open_poll(world.store, world.actor("chair"), pid)
    runs: list[int] = []
    decide_all = polls._cast_all

    def counted(session: Any, poll_id: str, meeting_id: str | None, asks: Any, now: Any) -> Any:
        runs.append(len(asks))
        return decide_all(session, poll_id, meeting_id, asks, now)

    monkeypatch.setattr(polls, "_cast_all", counted)
    link = dataclasses.replace(world.actor("member2"), only_meeting=world.meeting_id)  # a session from an invitation link
    asks: list[tuple[str, Any]] = [
        ("chair", lambda: _vote(world, pid, "chair", "yes")),
        ("bad option", lambda: _vote(world, pid, "secretary", "maybe")),
        ("member1", lambda: _vote(world, pid, "member1", "no")),
        ("member1 again", lambda: _vote(world, pid, "member1", "yes")),
        ("guest", lambda: _vote(world, pid, "guest", "yes")),
        ("outsider", lambda: _vote(world, pid, "outsider", "yes")),
        ("link", lambda: polls.cast_ballot(world.store, link, pid, ["yes"])),
        ("secretary", lambda: _vote(world, pid, "secretary", "abstain")),
    ]
    out = _while_the_writer_is_held(world, asks)

    assert runs[0] == len(asks)  # one call for the whole run; "member1 again" then alone, after it
    assert isinstance(out["bad option"], BallotError)
    assert isinstance(out["member1 again"], ConflictError)  # sees the first ballot of the same run
    assert isinstance(out["guest"], PermissionDeniedError) and isinstance(out["link"], PermissionDeniedError)
    assert isinstance(out["outsider"], NotFoundError)
    cast = {who: out[who] for who in ("chair", "member1", "secretary")}
    assert [r.ballots_cast for r in cast.values()] == [1, 2, 3] and all(r.receipt for r in cast.values())
    events = [e for e in world.store.events(meeting_id=world.meeting_id) if e.type == "poll.ballot_cast"]
    assert [(e.data["voter_id"], e.data["ballots_cast"]) for e in events] == [(world.ids[w], n) for n, w in enumerate(cast, start=1)]
    with world.store.read() as session:
        voters = session.scalars(select(t.PollVoter.member_id).where(t.PollVoter.poll_id == pid))
        assert sorted(voters) == sorted(world.ids[w] for w in cast)
        assert len(session.scalars(select(t.SealedBallot).where(t.SealedBallot.poll_id == pid)).all()) == 3
        assert session.get_one(t.Poll, pid).ballots_cast == 3

    def counts() -> tuple[list[tuple[str, int]], list[str]]:
        with world.store.read() as session:
            polls_ = [(p.id, p.ballots_cast) for p in session.scalars(select(t.Poll).order_by(t.Poll.id))]
            return polls_, sorted(session.scalars(select(t.PollVoter.member_id)))

    before = counts()
    world.store.rebuild()  # the run's read models are those of its events one by one
    assert counts() == before
    closed = polls.close_poll(world.store, world.actor("chair"), pid)
    assert {o["id"]: o["votes"] for o in closed.result["options"]} == {"yes": 1, "no": 1, "abstain": 1}
    assert polls.verify_polls(world.store).ok and world.store.verify().ok
    with world.store.read() as session:
        mine = polls.check_receipt(session, world.actor("member1"), session.get_one(t.Poll, pid), cast["member1"].receipt or "")
    assert mine.found and mine.own and mine.selection == ["no"]


def test_each_ballot_of_a_run_behind_the_close_gets_its_own_refusal_and_an_outsider_learns_nothing(world: World) -> None:
    """The poll closing ahead of a queued run: every ballot of it is refused, each with its own error,
    nothing stored; one who may not see the meeting still gets "no meeting" (not the poll's title or
    state), and an invitation link "log in yourself", as one at a time."""
    _in_session(world)
    pid = _poll(world)
    polls.open_poll(world.store, world.actor("chair"), pid)
    link = dataclasses.replace(world.actor("member2"), only_meeting=world.meeting_id)
    asks: list[tuple[str, Any]] = [("close", lambda: polls.close_poll(world.store, world.actor("chair"), pid))]
    asks += [(who, lambda who=who: _vote(world, pid, who, "yes")) for who in (*VOTERS, "outsider")]
    asks += [("link", lambda: polls.cast_ballot(world.store, link, pid, ["yes"]))]
    out = _while_the_writer_is_held(world, asks)
    assert all(isinstance(out[who], PollStateError) for who in VOTERS), out
    assert len({id(out[who]) for who in VOTERS}) == len(VOTERS)  # each caller its own error
    assert isinstance(out["outsider"], NotFoundError) and "Thông qua" not in str(out["outsider"])
    assert isinstance(out["link"], PermissionDeniedError) and out["link"].details.get("needs") == "own_login"
    with world.store.read() as session:
        assert session.scalars(select(t.PollVoter).where(t.PollVoter.poll_id == pid)).all() == []


def test_eligibility_is_fixed_when_the_poll_opens(world: World) -> None:
    _in_session(world, present=("chair", "secretary", "member1"))
    pid = _poll(world, eligibility="present_in_room")
    polls.open_poll(world.store, world.actor("chair"), pid)
    attendance.record(world.store, world.actor("chair"), world.meeting_id, world.ids["member2"], AttendanceStatus.PRESENT_IN_ROOM)
    with pytest.raises(PermissionDeniedError):
        _vote(world, pid, "member2", "yes")  # arrived after the vote opened
    with pytest.raises(MeetingRoomError):
        _vote(world, pid, "guest", "yes")
    with world.store.read() as session:
        poll = session.get_one(t.Poll, pid)
        assert (poll.members, poll.present, poll.eligible_count) == (4, 3, 3)


def test_ballot_errors_and_deadline(world: World) -> None:
    _in_session(world)
    pid = _poll(world)
    with pytest.raises(PollStateError):
        _vote(world, pid, "member1", "yes")  # not open yet
    polls.open_poll(world.store, world.actor("chair"), pid, duration_s=30)
    before = snapshot(world.store)
    with pytest.raises(BallotError):
        _vote(world, pid, "member1", "perhaps")
    with pytest.raises(BallotError):
        _vote(world, pid, "member1", "yes", "no")
    with pytest.raises(NotFoundError):  # through another meeting's address: no such poll there
        polls.cast_ballot(world.store, world.actor("member1"), pid, ["yes"], meeting_id=str(uuid.uuid4()))
    later = world.store.now() + timedelta(seconds=31)
    world.store._clock = lambda: later
    with pytest.raises(PollStateError, match="hết thời gian"):
        _vote(world, pid, "member1", "yes")
    assert snapshot(world.store) == before
    closed = polls.close_poll(world.store, None, pid)  # the countdown's own close
    assert closed.by_timer and closed.result["ballots_cast"] == 0


def test_changing_a_ballot_where_allowed(world: World) -> None:
    _in_session(world)
    named = _poll(world, allow_change=True)
    chair = world.actor("chair")
    polls.open_poll(world.store, chair, named)
    first = _vote(world, named, "member1", "no")
    again = _vote(world, named, "member1", "yes")
    assert (again.replaced, again.receipt, again.ballots_cast) == (True, None, 1)
    assert polls.close_poll(world.store, chair, named).result["options"][0]["votes"] == 1

    secret = _poll(world, allow_change=True, secrecy=Secrecy.SECRET)
    polls.open_poll(world.store, chair, secret)
    code = _vote(world, secret, "member1", "no").receipt
    other = _vote(world, secret, "member2", "no").receipt
    assert code is not None and other is not None
    before = snapshot(world.store)
    with pytest.raises(MeetingRoomError, match="mã biên nhận"):
        _vote(world, secret, "member1", "yes")
    with pytest.raises(PermissionDeniedError, match="không phải của bạn"):
        _vote(world, secret, "member1", "yes", receipt="AAAA-AAAA-AAAA-AAAA")
    # Another voter's receipt changes nothing, even in the hands of someone who has voted too.
    with pytest.raises(PermissionDeniedError, match="không phải của bạn"):
        _vote(world, secret, "member2", "yes", receipt=code)
    assert snapshot(world.store) == before
    changed = _vote(world, secret, "member1", "yes", receipt=code.lower())
    assert changed.replaced
    result = polls.close_poll(world.store, chair, secret).result
    assert [o["votes"] for o in result["options"]] == [1, 1, 0]
    with world.store.read() as session:
        poll = session.get_one(t.Poll, named)
        assert polls.check_receipt(session, world.actor("member1"), poll, first.receipt or "").selection == ["yes"]


def test_meeting_cannot_close_with_a_poll_open_and_cancel_discards_ballots(world: World) -> None:
    _in_session(world)
    pid = _poll(world, secrecy=Secrecy.SECRET)
    chair = world.actor("chair")
    polls.open_poll(world.store, chair, pid)
    _vote(world, pid, "member1", "yes")
    with pytest.raises(ConflictError, match="biểu quyết đang mở"):
        meetings.transition(world.store, chair, world.meeting_id, MeetingState.CLOSED)
    polls.cancel_poll(world.store, world.actor("secretary"), pid, "Biểu quyết nhầm nội dung")
    with world.store.read() as session:
        assert session.scalars(select(t.BallotBox)).all() == []
    meetings.transition(world.store, chair, world.meeting_id, MeetingState.CLOSED)


def test_rebuild_keeps_open_ballots_and_reproduces_results(world: World) -> None:
    _in_session(world)
    chair = world.actor("chair")
    done, still_open = _poll(world), _poll(world, secrecy=Secrecy.SECRET)
    for pid in (done, still_open):
        polls.open_poll(world.store, chair, pid)
        _vote(world, pid, "member1", "yes")
        _vote(world, pid, "member2", "no")
        if pid == done:
            polls.close_poll(world.store, chair, done)
            polls.publish_poll(world.store, chair, done)
    with world.store.read() as session:
        before = [(p.id, p.state, p.result, p.ballots_cast) for p in session.scalars(select(t.Poll).order_by(t.Poll.id))]
    world.store.rebuild()
    with world.store.read() as session:
        after = [(p.id, p.state, p.result, p.ballots_cast) for p in session.scalars(select(t.Poll).order_by(t.Poll.id))]
        assert len(session.scalars(select(t.SealedBallot)).all()) == 2
    assert before == after
    assert polls.close_poll(world.store, chair, still_open).result["ballots_cast"] == 2


def _closed_motion(world: World) -> str:
    _in_session(world)
    pid = _poll(world)
    polls.open_poll(world.store, world.actor("chair"), pid)
    for who, choice in (("member1", "yes"), ("member2", "yes"), ("chair", "no")):
        _vote(world, pid, who, choice)
    polls.close_poll(world.store, world.actor("chair"), pid)
    return pid


def test_verify_detects_a_changed_ballot_in_the_database(world: World) -> None:
    pid = _closed_motion(world)
    assert polls.verify_polls(world.store).ok
    with world.store.engine.begin() as conn:
        conn.execute(update(t.Ballot).where(t.Ballot.poll_id == pid, t.Ballot.voter_id == world.ids["chair"]).values(selection=["yes"]))
    audit = polls.verify_polls(world.store)
    assert audit.checked == 1 and any("ballots in the database differ" in p for p in audit.problems)


def test_verify_detects_a_forged_result_in_the_log(world: World) -> None:
    pid = _closed_motion(world)
    with world.store.engine.begin() as conn:
        row = conn.execute(text("SELECT seq, payload FROM events WHERE type = 'poll.closed'")).one()
        data = json.loads(row.payload)
        data["ballots"][0]["selection"] = ["no"] if data["ballots"][0]["selection"] == ["yes"] else ["yes"]
        conn.execute(text("UPDATE events SET payload = :p WHERE seq = :s"), {"p": json.dumps(data), "s": row.seq})
    assert not world.store.verify().ok  # the chain breaks
    assert any(pid in p for p in polls.verify_polls(world.store).problems)  # and the recount disagrees


def test_opinions_and_elections(world: World) -> None:
    _in_session(world)
    chair = world.actor("chair")
    opinion = _poll(world, kind=PollKind.OPINION, options=["Nhất trí", "Cần bổ sung"], rule=ev.RuleSpec(preset="plurality"))
    polls.open_poll(world.store, chair, opinion)
    _vote(world, opinion, "member1", "o2", text_="Đề nghị bổ sung kinh phí cho xã vùng cao")
    _vote(world, opinion, "member2", text_="đề nghị bổ sung kinh phí cho xã vùng cao.")
    _vote(world, opinion, "chair", "o1")
    result = polls.close_poll(world.store, chair, opinion).result
    assert result["opinions"][0]["count"] == 2 and sorted(result["opinions"][0]["authors"]) == sorted(
        [world.ids["member1"], world.ids["member2"]]
    )

    election = _poll(world, kind=PollKind.ELECTION, options=["Nguyễn Văn An", "Trần Thị Bình"], seats=1, secrecy=Secrecy.SECRET,
                     rule=ev.RuleSpec(preset="hdnd_election"))  # fmt: skip
    polls.open_poll(world.store, chair, election)
    for who, pick in (("chair", "o1"), ("secretary", "o1"), ("member1", "o1"), ("member2", "o2")):
        _vote(world, election, who, pick)
    result = polls.close_poll(world.store, chair, election).result
    assert result["outcome"] == "passed" and result["winners"] == ["o1"]
    assert "Nguyễn Văn An" in result["reason"]
    assert receipt_hash(election, "X") != receipt_hash(opinion, "X")


def test_a_secretary_who_is_no_delegate_counts_in_no_quorum_vote_or_absence(world: World) -> None:
    """The office's clerk who keeps the minutes is the meeting's secretary but no delegate: a walk-through's
    secretary, not even present, was counted in the quorum and the electorate, and a vote 3 of 5 failed as 3/6."""
    admin = world.actor("admin")
    with world.store.read() as session:
        participants = session.scalars(
            select(t.Participant.member_id).where(t.Participant.meeting_id == world.meeting_id, t.Participant.role != "guest")
        ).all()
    members.update_member(world.store, admin, ev.MemberUpdated(member_id=world.ids["secretary"], roles=[Role.SECRETARY]))
    _in_session(world, ("chair", "member1", "member2"))  # she keeps the minutes: nobody marks her present
    with world.store.read() as session:
        summary = attendance.summary(session, world.meeting_id)
    assert summary.expected == len(participants) - 1 and summary.not_recorded == len(participants) - 4
    poll_id = _poll(world)
    opened = polls.open_poll(world.store, world.actor("chair"), poll_id)
    assert opened.members == len(participants) - 1 and world.ids["secretary"] not in opened.eligible
    with pytest.raises(PermissionDeniedError):
        _vote(world, poll_id, "secretary", "yes")
    for who in ("chair", "member1", "member2"):
        _vote(world, poll_id, who, "yes")
    closed = polls.close_poll(world.store, world.actor("chair"), poll_id)
    assert closed.result["electorate"]["members"] == len(participants) - 1
    # a delegate who is also the secretary still counts and votes (the suite's secretary)
    members.update_member(world.store, admin, ev.MemberUpdated(member_id=world.ids["secretary"], roles=[Role.SECRETARY, Role.MEMBER]))
    with world.store.read() as session:
        assert attendance.summary(session, world.meeting_id).expected == len(participants)

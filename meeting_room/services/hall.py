"""The hall's view of a meeting: what the big screen in the room shows to everyone there.

One read builds it whole (``view``) from the read models: the meeting and its current item, who has
the floor and until when, how many wait, the quorum, the vote of the moment and the latest caption
lines. It holds only what the hall sees anyway: no ballot of anyone, no partial count of a vote
before it is published (an open vote shows ballots cast out of those eligible), no token, no record
of a person beyond the speaker's and caption speakers' names. The display's stream sends it again
after every event that changes it (``changes_view``), so the screen never re-derives anything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room.access import get_meeting
from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.services import attendance, floor, polls
from voting import PollState, Secrecy

CAPTION_LINES = 4
# the events after which the view is read again (a final caption line too; partial ones: ``partial_caption``)
_VIEW_EVENTS = (
    "meeting.state_changed", "meeting.updated", "meeting.participant_", "agenda.", "floor.", "poll.", "attendance.recorded",
    "transcript.segment", "transcript.speaker",
)  # fmt: skip


@dataclass(frozen=True)
class Speaker:
    full_name: str
    since: datetime
    limit_s: int | None
    ends_at: datetime | None


@dataclass(frozen=True)
class Quorum:
    """Members present out of those expected, and the meeting's quorum (``attendance.Summary``)."""

    present: int
    expected: int
    needed: int
    reached: bool

    @classmethod
    def of(cls, counts: attendance.Summary) -> Quorum:
        return cls(counts.present, counts.expected, counts.quorum_needed, counts.quorum_reached)


@dataclass(frozen=True)
class OptionResult:
    label: str
    votes: int
    percent: str | None
    selected: bool


@dataclass(frozen=True)
class Result:
    """A published result: the counts, the rule and why it passed or failed."""

    outcome: str
    outcome_label: str
    ballots_cast: int
    base_count: int
    needed: int | None
    options: list[OptionResult]
    reason: str
    reason_en: str


@dataclass(frozen=True)
class Vote:
    """The vote of the moment. Open: how many have voted out of those who may (never what); closed:
    awaiting publication (still no counts); published: the result."""

    poll_id: str
    title: str
    state: PollState
    secret: bool
    options: list[str]
    ballots_cast: int
    eligible: int | None
    closes_at: datetime | None
    rule: str
    rule_en: str
    result: Result | None


@dataclass(frozen=True)
class CaptionLine:
    speaker: str | None
    text: str


@dataclass(frozen=True)
class HallView:
    meeting_id: str
    title: str
    body: str
    state: MeetingState
    state_label: str
    item: str | None  # "3. Thông qua Nghị quyết …"
    speaker: Speaker | None
    waiting: int  # how many asked to speak
    quorum: Quorum
    vote: Vote | None
    captions: list[CaptionLine] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))  # the screen's clock follows the server's


class SharedViews:
    """One read of a meeting's view per change of the meeting, shared by every screen and page that
    follows it (a change reaches them all at once: each would otherwise read the same view again).
    A view is kept with the meeting's last event id it was read at or after; ``now`` is fresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, tuple[int, HallView]] = {}

    def view(self, session: Session, meeting_id: str) -> HallView:
        seq = get_meeting(session, meeting_id).last_seq
        with self._lock:
            kept = self._last.get(meeting_id)
        if kept is not None and kept[0] == seq:
            return replace(kept[1], now=datetime.now(UTC))
        fresh = view(session, meeting_id)  # read after ``seq``: never older than what it is kept as
        with self._lock:
            self._last[meeting_id] = (seq, fresh)
        return fresh


def changes_view(event_type: str) -> bool:
    return event_type.startswith(_VIEW_EVENTS)


def view(session: Session, meeting_id: str) -> HallView:
    meeting = get_meeting(session, meeting_id)
    body = session.get(t.Body, meeting.body_id)
    item = session.get(t.AgendaItem, meeting.current_item_id) if meeting.current_item_id else None
    turns = floor.floor_of(session, meeting)
    speaker = Speaker(turns.speaker.full_name, turns.speaker.since, turns.limit_s, turns.ends_at) if turns.speaker is not None else None
    counts = attendance.summary(session, meeting_id)
    state = MeetingState(meeting.state)
    return HallView(
        meeting_id=meeting.id,
        title=meeting.title,
        body=body.name if body else "",
        state=state,
        state_label=state.label_vi,
        item=f"{item.position}. {item.title}" if item else None,
        speaker=speaker,
        waiting=len(turns.queue),
        quorum=Quorum.of(counts),
        vote=_vote(session, meeting_id),
        captions=_captions(session, meeting_id),
    )


def _vote(session: Session, meeting_id: str) -> Vote | None:
    """The open vote; else the one that closed last (awaiting publication, or its published result).
    Opinions asked before the meeting are not votes of the hall: never shown there."""
    shown = (PollState.OPEN, PollState.CLOSED, PollState.PUBLISHED)
    rows = session.scalars(
        select(t.Poll).where(t.Poll.meeting_id == meeting_id, t.Poll.state.in_([s.value for s in shown]), t.Poll.before_meeting.is_(False))
    )
    candidates = sorted(rows, key=lambda p: (p.state == PollState.OPEN, p.opened_at or p.created_at))
    if not candidates:
        return None
    poll = candidates[-1]
    state = PollState(poll.state)
    rule = _rule_text(poll)
    published = poll.result if state is PollState.PUBLISHED else None
    return Vote(
        poll_id=poll.id,
        title=poll.title,
        state=state,
        secret=poll.secrecy == Secrecy.SECRET,
        options=[o["label"] for o in poll.options],
        ballots_cast=poll.ballots_cast,
        eligible=poll.eligible_count,
        closes_at=poll.closes_at if state is PollState.OPEN else None,
        rule=published["rule"]["description"] if published else rule[0],
        rule_en=published["rule"]["description_en"] if published else rule[1],
        result=_result(published) if published else None,
    )


def _rule_text(poll: t.Poll) -> tuple[str, str]:
    rule = polls.definition_of(poll).rule
    return rule.describe_vi(), rule.describe_en()


def _result(result: dict[str, Any]) -> Result:
    return Result(
        outcome=result["outcome"],
        outcome_label=result["outcome_label"],
        ballots_cast=result["ballots_cast"],
        base_count=result["base_count"],
        needed=result["needed"],
        options=[OptionResult(o["label"], o["votes"], o["percent"], o["selected"]) for o in result["options"]],
        reason=result["reason"],
        reason_en=result["reason_en"],
    )


def _captions(session: Session, meeting_id: str) -> list[CaptionLine]:
    """The newest final lines of the newest live transcription."""
    run = session.scalar(
        select(t.TranscriptPass)
        .where(t.TranscriptPass.meeting_id == meeting_id, t.TranscriptPass.kind == "live")
        .order_by(t.TranscriptPass.started_at.desc())
        .limit(1)
    )
    if run is None:
        return []
    newest = select(t.TranscriptLine).where(t.TranscriptLine.pass_id == run.id).order_by(t.TranscriptLine.start.desc())
    rows = list(session.scalars(newest.limit(CAPTION_LINES)))
    speakers = select(t.TranscriptSpeaker.cluster, t.TranscriptSpeaker.name).where(t.TranscriptSpeaker.pass_id == run.id)
    names = dict(session.execute(speakers).all())
    return [CaptionLine(names.get(r.cluster) if r.cluster else None, r.text) for r in reversed(rows)]


def partial_caption(message: dict[str, Any]) -> dict[str, Any] | None:
    """A live caption while someone speaks (a transient message), as the hall gets it: the words and
    who speaks; None for any other transient message (calls, tallies: not the hall's)."""
    if message.get("kind") != "caption":
        return None
    return {"kind": "caption", "final": bool(message.get("final")), "text": str(message.get("text", "")), "speaker": message.get("speaker")}

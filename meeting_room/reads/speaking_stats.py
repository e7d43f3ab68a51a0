"""Speaking statistics from the transcript: turns and speaking time per person, in one meeting
and summed over the closed meetings of a body between two days.

A read model over ``transcript_reads``: each meeting counts its current pass (the final one when
there is one, else the live draft), the same lines its record page shows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.reads import transcript_reads
from meeting_room.reads.transcript_reads import Line

UNKNOWN_VI = "Chưa rõ người nói"  # a line no speaker was put on yet (before diarization)
UNNAMED_VI = "Người nói chưa được xác định"  # over a period: every "Người nói N" of every meeting, together
ENDED = (MeetingState.CLOSED, MeetingState.MINUTES_SIGNED, MeetingState.ARCHIVED)  # meetings whose speech is all said


@dataclass(frozen=True)
class SpeakerStats:
    key: str  # the member id when the speaker is named, else the shown label ("Người nói 2")
    member_id: str | None
    name: str
    turns: int  # consecutive lines of the same speaker are one turn
    seconds: float  # the lines' own durations: the pauses between lines are nobody's speech
    share: float  # of all the speech counted (0..1; the shares add up to 1)
    longest_s: float  # the longest turn, measured as ``seconds``


@dataclass(frozen=True)
class SpeakingStats:
    speakers: list[SpeakerStats]  # most speaking time first
    total_s: float
    turns: int


@dataclass
class _Tally:
    member_id: str | None
    name: str
    turns: int = 0
    seconds: float = 0.0
    longest_s: float = 0.0


def _key(line: Line) -> str:
    return line.member_id or line.speaker or ""


def _tally(lines: Iterable[Line], tallies: dict[str, _Tally], *, pool_unnamed: bool = False) -> None:
    """Add one meeting's lines (in time order) to ``tallies``. ``pool_unnamed``: the unnamed speakers
    go into one row, since "Người nói 2" of one meeting is not the same person in the next."""
    previous: str | None = None
    turn_s = 0.0
    for line in lines:
        key = _key(line)
        if pool_unnamed and line.member_id is None:
            key = ""
        row = tallies.get(key)
        if row is None:
            if line.member_id:
                name = line.speaker or line.member_id  # the member's name is looked up at the end
            else:
                name = UNNAMED_VI if pool_unnamed else line.speaker or UNKNOWN_VI
            row = tallies[key] = _Tally(line.member_id, name)
        said = max(0.0, line.end - line.start)
        if key != previous:
            row.turns += 1
            turn_s = 0.0
        turn_s += said
        row.seconds += said
        row.longest_s = max(row.longest_s, turn_s)
        previous = key


def _result(tallies: dict[str, _Tally], names: dict[str, str]) -> SpeakingStats:
    total = sum(r.seconds for r in tallies.values())
    rows = [
        SpeakerStats(
            key=key,
            member_id=r.member_id,
            name=names.get(r.member_id, r.name) if r.member_id else r.name,
            turns=r.turns,
            seconds=round(r.seconds, 2),
            share=round(r.seconds / total, 4) if total > 0 else 0.0,
            longest_s=round(r.longest_s, 2),
        )
        for key, r in tallies.items()
    ]
    rows.sort(key=lambda s: (-s.seconds, s.name))
    return SpeakingStats(rows, round(total, 2), sum(r.turns for r in rows))


def from_lines(lines: Iterable[Line], *, names: dict[str, str] | None = None) -> SpeakingStats:
    """The statistics of one meeting's lines (in time order); ``names``: members' names by id."""
    tallies: dict[str, _Tally] = {}
    _tally(lines, tallies)
    return _result(tallies, names or {})


def _member_names(session: Session, tallies: Iterable[_Tally]) -> dict[str, str]:
    ids = {r.member_id for r in tallies if r.member_id}
    if not ids:
        return {}
    return {row.id: row.full_name for row in session.execute(select(t.Member.id, t.Member.full_name).where(t.Member.id.in_(ids)))}


def _meeting_lines(session: Session, meeting_id: str) -> list[Line]:
    run = transcript_reads.current_pass(session, meeting_id)
    return transcript_reads.lines(session, run.id) if run else []


def of_meeting(session: Session, meeting_id: str) -> SpeakingStats:
    """One meeting's statistics from its current transcript pass (empty when it has none)."""
    tallies: dict[str, _Tally] = {}
    _tally(_meeting_lines(session, meeting_id), tallies)
    return _result(tallies, _member_names(session, tallies.values()))


def ended_meetings(
    session: Session, body_id: str, date_from: date, date_to: date, zone: ZoneInfo, visible: Collection[str] | None
) -> list[t.Meeting]:
    """The body's meetings that ended, starting on ``date_from`` .. ``date_to`` (whole days in
    ``zone``, as the meeting lists filter), among ``visible`` (None: every meeting)."""
    query = (
        select(t.Meeting)
        .where(
            t.Meeting.body_id == body_id,
            t.Meeting.state.in_([s.value for s in ENDED]),
            t.Meeting.starts_at >= datetime.combine(date_from, time(), zone),
            t.Meeting.starts_at < datetime.combine(date_to + timedelta(days=1), time(), zone),
        )
        .order_by(t.Meeting.starts_at, t.Meeting.id)
    )
    return [m for m in session.scalars(query) if visible is None or m.id in visible]


def of_period(session: Session, meetings: Iterable[t.Meeting]) -> SpeakingStats:
    """The statistics summed over ``meetings``: a named member is one row across them all."""
    tallies: dict[str, _Tally] = {}
    for meeting in meetings:
        _tally(_meeting_lines(session, meeting.id), tallies, pool_unnamed=True)
    return _result(tallies, _member_names(session, tallies.values()))

"""The read side of transcripts: passes, their lines, and the agenda item open at a moment.

A read model below the store (ARCHITECTURE.md: commands and reads are apart): the commands live in
``meeting_room.services.transcripts``; the minutes, the archive, the search index and the routes
read through these queries.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room.db import tables as t
from speech.transcript import Segment, Word


@dataclass(frozen=True)
class Line:
    id: str
    start: float
    end: float
    text: str
    speaker: str | None
    member_id: str | None
    cluster: str | None
    channel: int | None
    confidence: float


def passes(session: Session, meeting_id: str) -> list[t.TranscriptPass]:
    query = select(t.TranscriptPass).where(t.TranscriptPass.meeting_id == meeting_id)
    return list(session.scalars(query.order_by(t.TranscriptPass.started_at, t.TranscriptPass.id)))


def current_pass(session: Session, meeting_id: str) -> t.TranscriptPass | None:
    """The newest completed final pass; else the newest live pass; else the newest pass at all."""
    runs = passes(session, meeting_id)
    for wanted in (lambda r: r.kind == "final" and r.state == "completed", lambda r: r.kind == "live", lambda r: True):
        chosen = [r for r in runs if wanted(r)]
        if chosen:
            return chosen[-1]
    return None


def lines(session: Session, pass_id: str) -> list[Line]:
    speakers = {s.cluster: s for s in session.scalars(select(t.TranscriptSpeaker).where(t.TranscriptSpeaker.pass_id == pass_id))}
    rows = session.scalars(select(t.TranscriptLine).where(t.TranscriptLine.pass_id == pass_id).order_by(t.TranscriptLine.start))
    out = []
    for r in rows:
        who = speakers.get(r.cluster) if r.cluster else None
        out.append(
            Line(
                r.id, r.start, r.end, r.text, who.name if who else None, who.member_id if who else None, r.cluster, r.channel, r.confidence
            )
        )
    return out


def as_segments(session: Session, pass_id: str) -> Iterable[Segment]:
    """The pass as ``speech`` segments (for the JSON/WebVTT/SRT/RTTM writers)."""
    speakers = {s.cluster: s.name for s in session.scalars(select(t.TranscriptSpeaker).where(t.TranscriptSpeaker.pass_id == pass_id))}
    rows = session.scalars(select(t.TranscriptLine).where(t.TranscriptLine.pass_id == pass_id).order_by(t.TranscriptLine.start))
    for r in rows:
        words = tuple(Word(w[0], w[1], w[2], w[3]) for w in r.words or [])
        # avg_logprob from the stored confidence, so that Segment.confidence reads back the same
        logprob = math.log(r.confidence) if r.confidence > 0 else -20.0
        yield Segment(r.start, r.end, r.text, words, logprob, 0.0, speakers.get(r.cluster or ""), r.channel)


def agenda_items_of(session: Session, meeting: t.Meeting, run: t.TranscriptPass, starts: list[float]) -> list[str | None]:
    """For each line start (seconds into the pass's audio), the agenda item the chair had open then."""
    log = [(datetime.fromisoformat(at), item) for at, item in meeting.agenda_log or []]
    origin = _audio_origin(session, meeting, run)
    if origin is None or not log:
        return [None] * len(starts)
    times = [at for at, _ in log]
    out: list[str | None] = []
    for start in starts:
        index = bisect_right(times, origin + timedelta(seconds=start)) - 1
        out.append(log[index][1] if index >= 0 else None)
    return out


def _audio_origin(session: Session, meeting: t.Meeting, run: t.TranscriptPass) -> datetime | None:
    """The wall-clock time of second 0 of a pass's audio: a live pass starts with the audio; a
    final pass re-reads the recording, taken as starting with the meeting's first live pass."""
    if run.kind == "live":
        return run.started_at
    first_live = session.scalar(
        select(t.TranscriptPass.started_at)
        .where(t.TranscriptPass.meeting_id == meeting.id, t.TranscriptPass.kind == "live")
        .order_by(t.TranscriptPass.started_at)
        .limit(1)
    )
    return first_live or meeting.started_at

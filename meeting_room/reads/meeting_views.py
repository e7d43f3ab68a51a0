"""When each person last opened a meeting, and whether it changed since: the home page's
"Mới thay đổi / Changed" mark."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room.db import tables as t


def seen_times(session: Session, member_id: str, meeting_ids: Iterable[str]) -> dict[str, datetime]:
    """meeting id -> when ``member_id`` last opened it (meetings never opened are absent)."""
    ids = list(meeting_ids)
    if not ids:
        return {}
    view = t.MeetingView
    rows = session.execute(select(view.meeting_id, view.seen_at).where(view.member_id == member_id, view.meeting_id.in_(ids)))
    return {meeting_id: seen_at for meeting_id, seen_at in rows}


def changed_since_seen(meeting: t.Meeting, seen_at: datetime | None) -> bool:
    """The meeting, its agenda or its documents changed after its invitation went out and after the
    person last opened it."""
    changed = meeting.changed_at
    if changed is None or meeting.published_at is None or changed <= meeting.published_at:
        return False
    return seen_at is None or changed > seen_at


def stale(meeting: t.Meeting, seen_at: datetime | None) -> bool:
    """Whether opening the meeting now must be recorded: never opened, or changed since (at most one
    write per change per person, however often the pages re-read the meeting)."""
    return seen_at is None or (meeting.changed_at is not None and seen_at < meeting.changed_at)


def mark_seen(session: Session, member_id: str, meeting_id: str, now: datetime) -> None:
    """Record that ``member_id`` opened the meeting ``now`` (``session``: a ``Store.exclusive`` one)."""
    session.merge(t.MeetingView(member_id=member_id, meeting_id=meeting_id, seen_at=now))

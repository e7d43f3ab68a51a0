"""Who sits where in one meeting: each seat of the meeting's room with its usual occupant (the
default) and whoever was seated there for this meeting instead.

The one rule of seating: a seat given for this meeting (``meeting.seat_assigned``, possibly empty)
wins; otherwise its usual occupant sits there, if they take part in the meeting and were not
seated elsewhere for it. The seat microphones name the speaker from this.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room.db import tables as t


@dataclass(frozen=True)
class SeatPlace:
    seat_id: str
    label: str
    position: int
    usual_member_id: str | None  # the room's default for the seat
    member_id: str | None  # who sits there in this meeting
    overridden: bool  # chosen for this meeting rather than the default


def seating(session: Session, meeting: t.Meeting) -> list[SeatPlace]:
    """Every seat of the meeting's room, in order (none when the meeting has no room)."""
    if meeting.room_id is None:
        return []
    seats = session.scalars(select(t.Seat).where(t.Seat.room_id == meeting.room_id).order_by(t.Seat.position)).all()
    given = {row.seat_id: row.member_id for row in session.scalars(select(t.MeetingSeat).where(t.MeetingSeat.meeting_id == meeting.id))}
    participants = set(session.scalars(select(t.Participant.member_id).where(t.Participant.meeting_id == meeting.id)))
    placed = {seat.id: given[seat.id] for seat in seats if seat.id in given}
    moved = {m for m in placed.values() if m is not None}
    out = []
    for seat in seats:
        if seat.id in placed:
            member_id = placed[seat.id]
        else:
            usual = seat.member_id
            member_id = usual if usual in participants and usual not in moved else None
        out.append(SeatPlace(seat.id, seat.label, seat.position, seat.member_id, member_id, seat.id in placed))
    return out

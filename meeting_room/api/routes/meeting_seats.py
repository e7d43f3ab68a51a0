"""Seats for one meeting: who sits where (the room's usual occupants unless changed for this meeting)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from meeting_room.access import Actor, get_meeting, prepares, require_view
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.db import tables as t
from meeting_room.lifecycle import EDITABLE, MeetingState
from meeting_room.reads.meeting_seats import seating
from meeting_room.services import meeting_seats
from meeting_room.store import Store

router = APIRouter(prefix="/api/meetings/{meeting_id}/seats", tags=["meeting seats"])


class SeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str | None = Field(max_length=36, description="A participant of this meeting, or null to leave the seat empty")


class PersonOut(BaseModel):
    member_id: str
    full_name: str


class MeetingSeatOut(BaseModel):
    seat_id: str
    label: str
    usual: PersonOut | None  # the room's default occupant
    occupant: PersonOut | None  # who sits there in this meeting
    overridden: bool


class SeatingOut(BaseModel):
    seats: list[MeetingSeatOut]
    participants: list[PersonOut]  # whom a seat may be given to
    can_edit: bool  # the viewer may change the seating now


def _view(store: Store, actor: Actor, meeting_id: str) -> SeatingOut:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        places = seating(session, meeting)
        rows = session.execute(
            select(t.Member.id, t.Member.full_name)
            .join(t.Participant, t.Participant.member_id == t.Member.id)
            .where(t.Participant.meeting_id == meeting_id)
            .order_by(t.Member.full_name)
        ).all()
        people = [PersonOut(member_id=i, full_name=n) for i, n in rows]
        ids = {m for p in places for m in (p.member_id, p.usual_member_id) if m}
        names = {i: n for i, n in session.execute(select(t.Member.id, t.Member.full_name).where(t.Member.id.in_(ids)))}
        can_edit = prepares(session, actor, meeting) and MeetingState(meeting.state) in EDITABLE

    def person(member_id: str | None) -> PersonOut | None:
        return PersonOut(member_id=member_id, full_name=names.get(member_id, member_id)) if member_id else None

    seats = [MeetingSeatOut(seat_id=p.seat_id, label=p.label, usual=person(p.usual_member_id), occupant=person(p.member_id),
                            overridden=p.overridden) for p in places]  # fmt: skip
    return SeatingOut(seats=seats, participants=people, can_edit=can_edit)


@router.get("")
def list_seats(meeting_id: str, store: StoreDep, actor: ActorDep) -> SeatingOut:
    """Every seat of the meeting's room: its label, usual occupant, this meeting's occupant and whether it was changed."""
    return _view(store, actor, meeting_id)


@router.put("/{seat_id}")
def assign(meeting_id: str, seat_id: str, body: SeatIn, store: StoreDep, actor: ActorDep) -> SeatingOut:
    """Seat a participant (or nobody) for this meeting only (the meeting's officers, until it ends)."""
    meeting_seats.assign_seat(store, actor, meeting_id, seat_id, body.member_id)
    return _view(store, actor, meeting_id)


@router.delete("/{seat_id}")
def reset(meeting_id: str, seat_id: str, store: StoreDep, actor: ActorDep) -> SeatingOut:
    """Give the seat back to its usual occupant for this meeting."""
    meeting_seats.reset_seat(store, actor, meeting_id, seat_id)
    return _view(store, actor, meeting_id)

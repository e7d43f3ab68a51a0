"""Seats for one meeting: the meeting's officers seat a participant (a guest, a deputy) in place of
a seat's usual occupant, leave a seat empty, or give it back to its usual occupant. Allowed until
the meeting ends: a guest may sit down mid-meeting."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_preparer
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, NotFoundError
from meeting_room.lifecycle import EDITABLE, MeetingState, require_state
from meeting_room.store import Store


def _seat(session: Session, actor: Actor, meeting_id: str, seat_id: str, action_vi: str, action_en: str) -> t.Meeting:
    meeting = get_meeting(session, meeting_id)
    require_preparer(session, actor, meeting, action_vi=action_vi, action_en=action_en)
    require_state(meeting.id, MeetingState(meeting.state), EDITABLE, action_vi, action_en, title=meeting.title)
    seat = session.get(t.Seat, seat_id)
    if seat is None or seat.room_id != meeting.room_id:
        raise NotFoundError(
            f"Phòng họp của cuộc họp không có ghế {seat_id}", f"The meeting's room has no seat {seat_id!r}", seat_id=seat_id
        )
    return meeting


def assign_seat(store: Store, actor: Actor, meeting_id: str, seat_id: str, member_id: str | None) -> None:
    """Seat ``member_id`` (a participant of this meeting; ``None``: nobody) for this meeting only;
    one seat per person per meeting."""

    def decide(session: Session) -> ev.EventPayload:
        _seat(session, actor, meeting_id, seat_id, "xếp chỗ ngồi", "assign seats")
        if member_id is not None:
            if session.get(t.Participant, (meeting_id, member_id)) is None:
                raise InvalidInputError(
                    f"{member_id} không dự cuộc họp này; hãy mời trước khi xếp chỗ",
                    f"{member_id} is not a participant of this meeting; invite them before seating them",
                    member_id=member_id,
                )
            other = session.scalar(
                select(t.Seat.label)
                .join(t.MeetingSeat, t.MeetingSeat.seat_id == t.Seat.id)
                .where(t.MeetingSeat.meeting_id == meeting_id, t.MeetingSeat.member_id == member_id, t.MeetingSeat.seat_id != seat_id)
            )
            if other is not None:
                name = session.get_one(t.Member, member_id).full_name
                raise ConflictError(
                    f"{name} đã được xếp ghế “{other}” trong cuộc họp này; hãy bỏ chỗ đó trước",
                    f"{name} already has seat {other!r} in this meeting; clear that seat first",
                    seat=other,
                )
        return ev.MeetingSeatAssigned(meeting_id=meeting_id, seat_id=seat_id, member_id=member_id)

    store.append(decide, actor_id=actor.member_id)


def reset_seat(store: Store, actor: Actor, meeting_id: str, seat_id: str) -> None:
    """The seat goes back to its usual occupant for this meeting."""

    def decide(session: Session) -> ev.EventPayload:
        _seat(session, actor, meeting_id, seat_id, "xếp chỗ ngồi", "assign seats")
        return ev.MeetingSeatReset(meeting_id=meeting_id, seat_id=seat_id)

    store.append(decide, actor_id=actor.member_id)

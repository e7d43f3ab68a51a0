"""Rooms and their seats."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, require_roles
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, NotFoundError
from meeting_room.services.lookup import fetch
from meeting_room.store import Store


def seat_specs(labels: list[str], existing: dict[str, str] | None = None) -> list[ev.SeatSpec]:
    """Seats in the given order; a label that already had a seat keeps its id."""
    seen: set[str] = set()
    specs = []
    for position, label in enumerate(labels, start=1):
        spec = ev.SeatSpec(seat_id=(existing or {}).get(label.strip()) or str(uuid.uuid4()), label=label, position=position)
        if spec.label in seen:
            raise InvalidInputError(f"Ghế “{spec.label}” bị lặp", f"Seat {spec.label!r} is listed twice", seat=spec.label)
        seen.add(spec.label)
        specs.append(spec)
    return specs


def _name_free(session: Session, name: str, except_id: str | None = None) -> None:
    other = session.scalar(select(t.Room).where(t.Room.name == name))
    if other is not None and other.id != except_id:
        raise ConflictError(f"Đã có phòng họp tên “{name}”", f"A room named {name!r} already exists", id=other.id)


def create_room(store: Store, actor: Actor, *, name: str, location: str | None, seats: list[str]) -> str:
    require_roles(actor, action_vi="tạo phòng họp", action_en="create rooms")
    payload = ev.RoomCreated(room_id=str(uuid.uuid4()), name=name, location=location, seats=seat_specs(seats))

    def decide(session: Session) -> ev.EventPayload:
        _name_free(session, payload.name)
        return payload

    store.append(decide, actor_id=actor.member_id)
    return payload.room_id


def update_room(store: Store, actor: Actor, room_id: str, *, fields: dict[str, str | None], seats: list[str] | None) -> None:
    require_roles(actor, action_vi="sửa phòng họp", action_en="edit rooms")

    def decide(session: Session) -> ev.EventPayload:
        fetch(session, t.Room, room_id)
        if fields.get("name"):
            _name_free(session, str(fields["name"]), room_id)
        extra: dict[str, list[ev.SeatSpec]] = {}
        if seats is not None:
            existing = {s.label: s.id for s in session.scalars(select(t.Seat).where(t.Seat.room_id == room_id))}
            extra["seats"] = seat_specs(seats, existing)
        return ev.RoomUpdated.model_validate({"room_id": room_id, **fields, **extra})

    store.append(decide, actor_id=actor.member_id)


def set_occupant(store: Store, actor: Actor, room_id: str, seat_id: str, member_id: str | None) -> None:
    """Who usually sits in a seat (``None``: nobody); a person has one usual seat per room."""
    require_roles(actor, action_vi="xếp chỗ ngồi", action_en="assign seats")

    def decide(session: Session) -> ev.EventPayload:
        fetch(session, t.Room, room_id)
        seat = session.get(t.Seat, seat_id)
        if seat is None or seat.room_id != room_id:
            raise NotFoundError(f"Phòng họp không có ghế {seat_id}", f"The room has no seat {seat_id!r}", seat_id=seat_id)
        if member_id is not None:
            member = fetch(session, t.Member, member_id)
            if not member.active:
                raise ConflictError(
                    f"Tài khoản của {member.full_name} đã bị khóa; không thể xếp chỗ",
                    f"{member.full_name}'s account is disabled; they cannot be given a seat",
                    member_id=member_id,
                )
            other = session.scalar(select(t.Seat).where(t.Seat.room_id == room_id, t.Seat.member_id == member_id, t.Seat.id != seat_id))
            if other is not None:
                raise ConflictError(
                    f"{member.full_name} đã ngồi ghế “{other.label}” của phòng này; hãy bỏ chỗ đó trước",
                    f"{member.full_name} already sits at seat {other.label!r} of this room; clear that seat first",
                    seat=other.label,
                )
        return ev.SeatOccupantSet(room_id=room_id, seat_id=seat_id, member_id=member_id)

    store.append(decide, actor_id=actor.member_id)

"""Rooms and their seats."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, require_roles
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError
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

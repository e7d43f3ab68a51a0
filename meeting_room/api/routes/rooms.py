"""Rooms and their seats."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.schemas import Out
from meeting_room.db import tables as t
from meeting_room.services import rooms
from meeting_room.services.lookup import fetch
from meeting_room.text import Name, ShortText

router = APIRouter(prefix="/api/rooms", tags=["rooms"])


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    location: Name | None = None
    seats: list[ShortText] = Field(default_factory=list, max_length=1000)


class RoomPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    location: Name | None = None
    seats: list[ShortText] | None = Field(None, max_length=1000)


class SeatOut(Out):
    id: str
    label: str
    position: int


class RoomOut(Out):
    id: str
    name: str
    location: str | None
    seats: list[SeatOut]


def _room_out(session, room: t.Room) -> RoomOut:  # type: ignore[no-untyped-def]
    seats = session.scalars(select(t.Seat).where(t.Seat.room_id == room.id).order_by(t.Seat.position))
    return RoomOut(id=room.id, name=room.name, location=room.location, seats=[SeatOut.model_validate(s) for s in seats])


@router.get("")
def list_rooms(store: StoreDep, actor: ActorDep) -> list[RoomOut]:
    """All rooms with their seats."""
    with store.read() as session:
        return [_room_out(session, r) for r in session.scalars(select(t.Room).order_by(t.Room.name))]


@router.post("", status_code=201)
def create_room(body: RoomIn, store: StoreDep, actor: ActorDep) -> RoomOut:
    """Create a room with its seats in order (admin)."""
    room_id = rooms.create_room(store, actor, name=body.name, location=body.location, seats=body.seats)
    return get_room(room_id, store, actor)


@router.get("/{room_id}")
def get_room(room_id: str, store: StoreDep, actor: ActorDep) -> RoomOut:
    """One room."""
    with store.read() as session:
        return _room_out(session, fetch(session, t.Room, room_id))


@router.patch("/{room_id}")
def update_room(room_id: str, body: RoomPatch, store: StoreDep, actor: ActorDep) -> RoomOut:
    """Rename a room or replace its seat list (seats keep their ids by label) (admin)."""
    fields = body.model_dump(exclude_unset=True, exclude={"seats"})
    rooms.update_room(store, actor, room_id, fields=fields, seats=body.seats)
    return get_room(room_id, store, actor)

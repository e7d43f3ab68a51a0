"""Rooms and their seats."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hardware.devices import AudioDevice
from meeting_room.access import require_roles
from meeting_room.api.deps import ActorDep, StoreDep, runtime_of
from meeting_room.api.routes.schemas import Out
from meeting_room.db import tables as t
from meeting_room.live.room_runner import DeviceStatus
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
    member_id: str | None = Field(description="Who usually sits here: the default for each meeting in the room")
    member_name: str | None = None


class OccupantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str | None = Field(description="The member who usually sits here, or null for nobody")


class RoomOut(Out):
    id: str
    name: str
    location: str | None
    seats: list[SeatOut]


def _room_out(session: Session, room: t.Room) -> RoomOut:
    seats = session.execute(
        select(t.Seat, t.Member.full_name)
        .outerjoin(t.Member, t.Member.id == t.Seat.member_id)
        .where(t.Seat.room_id == room.id)
        .order_by(t.Seat.position)
    )
    out = [SeatOut(id=s.id, label=s.label, position=s.position, member_id=s.member_id, member_name=name) for s, name in seats]
    return RoomOut(id=room.id, name=room.name, location=room.location, seats=out)


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


@router.put("/{room_id}/seats/{seat_id}/occupant")
def set_occupant(room_id: str, seat_id: str, body: OccupantIn, store: StoreDep, actor: ActorDep) -> RoomOut:
    """Set who usually sits in a seat, or nobody (admin); one usual seat per person per room."""
    rooms.set_occupant(store, actor, room_id, seat_id, body.member_id)
    return get_room(room_id, store, actor)


# --- devices ---------------------------------------------------------------------------------------


class RoomDevicesOut(BaseModel):
    room_id: str
    run_here: bool = Field(description="False when no room configuration of this server names the room")
    live_meeting_id: str | None
    devices: list[DeviceStatus] = Field(
        description="Each microphone and camera: kind, state (starting, connected, lost, ended, stopped), detail, since, url"
    )


class MachineDevicesOut(BaseModel):
    audio: list[AudioDevice]
    video: list[str] = Field(description="V4L2 camera nodes (IP cameras are not discoverable: name them in the room configuration)")
    error: str | None = Field(None, description="Why audio devices could not be listed")


@router.get("/{room_id}/devices")
def room_devices(room_id: str, request: Request, store: StoreDep, actor: ActorDep) -> RoomDevicesOut:
    """The room's microphones and cameras as this server sees them now."""
    with store.read() as session:
        fetch(session, t.Room, room_id)
    for runner in runtime_of(request).rooms:
        if runner.room_id == room_id:
            return RoomDevicesOut(room_id=room_id, run_here=True, live_meeting_id=runner.live_meeting, devices=runner.status())
    return RoomDevicesOut(room_id=room_id, run_here=False, live_meeting_id=None, devices=[])


machine_router = APIRouter(prefix="/api/devices", tags=["rooms"])


@machine_router.get("")
def machine_devices(actor: ActorDep) -> MachineDevicesOut:
    """What this machine offers for a room configuration: sound devices and camera nodes (admin)."""
    from hardware.devices import audio_devices, video_devices
    from hardware.errors import HardwareError

    require_roles(actor, action_vi="xem thiết bị của máy chủ", action_en="list the server's devices")
    try:
        audio = audio_devices()
        error = None
    except HardwareError as exc:
        audio, error = [], f"{exc.message_vi} / {exc.message_en}"
    return MachineDevicesOut(audio=audio, video=video_devices(), error=error)

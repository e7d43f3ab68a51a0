"""The floor: ask to speak, withdraw, give the floor, end a turn. Changes reach pages as ``floor.*`` events."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from meeting_room.access import get_meeting, require_view
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.schemas import Out
from meeting_room.services import floor, speaking
from meeting_room.store import Store

router = APIRouter(prefix="/api/meetings/{meeting_id}/floor", tags=["floor"])


class WaitingOut(Out):
    member_id: str
    full_name: str
    since: datetime


class FloorOut(Out):
    speaker: WaitingOut | None
    queue: list[WaitingOut]
    limit_s: int | None = Field(None, description="How long a turn may last now (the current item's, else the meeting's); null: no limit")
    ends_at: datetime | None = Field(None, description="When the current turn's time runs out")


class LimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: int | None = Field(description="10 s to 60 min; null removes the limit (an item's: back to the meeting's)")
    item_id: str | None = Field(None, description="An agenda item's own limit; without it, the meeting's default")


class GiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str


def _out(store: Store, meeting_id: str) -> FloorOut:
    with store.read() as session:
        state = floor.floor_of(session, get_meeting(session, meeting_id))
    return FloorOut.model_validate(state)


@router.get("")
def get_floor(meeting_id: str, store: StoreDep, actor: ActorDep) -> FloorOut:
    """Who speaks now and who waits to speak, in the order they asked."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
    return _out(store, meeting_id)


@router.post("/requests", status_code=201)
def ask(meeting_id: str, store: StoreDep, actor: ActorDep) -> FloorOut:
    """Ask to speak (xin phát biểu); only while the meeting is in session."""
    floor.request(store, actor, meeting_id)
    return _out(store, meeting_id)


@router.delete("/requests/{member_id}")
def withdraw(meeting_id: str, member_id: str, store: StoreDep, actor: ActorDep) -> FloorOut:
    """Withdraw one's own request, or (chair, secretary) decline someone's."""
    floor.withdraw(store, actor, meeting_id, member_id)
    return _out(store, meeting_id)


@router.put("/speaker")
def give(meeting_id: str, body: GiveIn, store: StoreDep, actor: ActorDep) -> FloorOut:
    """Give the floor (chair, secretary); whoever was speaking stops."""
    floor.give(store, actor, meeting_id, body.member_id)
    return _out(store, meeting_id)


@router.delete("/speaker")
def end(meeting_id: str, store: StoreDep, actor: ActorDep) -> FloorOut:
    """End the current turn (the speaker, or the chair or secretary)."""
    floor.end(store, actor, meeting_id)
    return _out(store, meeting_id)


@router.put("/limit")
def set_limit(meeting_id: str, body: LimitIn, store: StoreDep, actor: ActorDep) -> FloorOut:
    """Set how long one turn to speak may last: the meeting's default, or one agenda item's (chair, secretary)."""
    speaking.set_limit(store, actor, meeting_id, body.seconds, body.item_id)
    return _out(store, meeting_id)

"""Bodies (organisations)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from meeting_room import events as ev
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.schemas import Out
from meeting_room.db import tables as t
from meeting_room.roles import BodyKind
from meeting_room.services import bodies
from meeting_room.services.lookup import fetch
from meeting_room.text import Name, ShortText

router = APIRouter(prefix="/api/bodies", tags=["bodies"])


class BodyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    short_name: ShortText
    parent_name: Name | None = None
    kind: BodyKind = BodyKind.OTHER


class BodyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    short_name: ShortText | None = None
    parent_name: Name | None = None
    kind: BodyKind | None = None


class BodyOut(Out):
    id: str
    name: str
    short_name: str
    parent_name: str | None
    kind: BodyKind = Field(description="council (HĐND), committee (UBND) or other: names its members and sets the default voting rule")
    created_at: datetime


@router.get("")
def list_bodies(store: StoreDep, actor: ActorDep) -> list[BodyOut]:
    """All bodies."""
    with store.read() as session:
        return [BodyOut.model_validate(b) for b in session.scalars(select(t.Body).order_by(t.Body.name))]


@router.post("", status_code=201)
def create_body(body: BodyIn, store: StoreDep, actor: ActorDep) -> BodyOut:
    """Create a body (admin)."""
    body_id = bodies.create_body(store, actor, **body.model_dump())
    return get_body(body_id, store, actor)


@router.get("/{body_id}")
def get_body(body_id: str, store: StoreDep, actor: ActorDep) -> BodyOut:
    """One body."""
    with store.read() as session:
        return BodyOut.model_validate(fetch(session, t.Body, body_id))


@router.patch("/{body_id}")
def update_body(body_id: str, body: BodyPatch, store: StoreDep, actor: ActorDep) -> BodyOut:
    """Change a body's names or kind (admin)."""
    bodies.update_body(store, actor, ev.BodyUpdated(body_id=body_id, **body.model_dump(exclude_unset=True)))
    return get_body(body_id, store, actor)

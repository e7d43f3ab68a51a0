"""The agenda of a meeting, with each item's documents."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from meeting_room import events as ev
from meeting_room.access import get_meeting, require_view
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.schemas import Out
from meeting_room.db import tables as t
from meeting_room.services import agenda
from meeting_room.text import LongText, Title

router = APIRouter(prefix="/api/meetings/{meeting_id}/agenda", tags=["agenda"])


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title
    description: LongText | None = None
    presenter_id: str | None = None


class ItemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    description: LongText | None = None
    presenter_id: str | None = None


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_ids: list[str]


class DocumentOut(Out):
    id: str
    agenda_item_id: str
    title: str
    filename: str
    size: int
    pages: int
    sha256: str
    uploaded_at: datetime
    url: str = ""


class ItemOut(Out):
    id: str
    position: int
    title: str
    description: str | None
    presenter_id: str | None
    speaking_limit_s: int | None = None  # this item's own limit for a turn to speak (else the meeting's)
    documents: list[DocumentOut] = []


def document_out(doc: t.Document) -> DocumentOut:
    out = DocumentOut.model_validate(doc)
    out.url = f"/api/meetings/{doc.meeting_id}/documents/{doc.id}/file"
    return out


@router.get("")
def list_items(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[ItemOut]:
    """The agenda in order, each item with its documents."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        items = session.scalars(select(t.AgendaItem).where(t.AgendaItem.meeting_id == meeting_id).order_by(t.AgendaItem.position))
        docs = session.scalars(select(t.Document).where(t.Document.meeting_id == meeting_id).order_by(t.Document.uploaded_at))
        by_item: dict[str, list[DocumentOut]] = {}
        for doc in docs:
            by_item.setdefault(doc.agenda_item_id, []).append(document_out(doc))
        out = []
        for item in items:
            row = ItemOut.model_validate(item)
            row.documents = by_item.get(item.id, [])
            out.append(row)
        return out


@router.post("", status_code=201)
def add_item(meeting_id: str, body: ItemIn, store: StoreDep, actor: ActorDep) -> list[ItemOut]:
    """Append an item to the agenda (the meeting's chair or secretary)."""
    agenda.add_item(store, actor, meeting_id, **body.model_dump())
    return list_items(meeting_id, store, actor)


@router.patch("/{item_id}")
def update_item(meeting_id: str, item_id: str, body: ItemPatch, store: StoreDep, actor: ActorDep) -> list[ItemOut]:
    """Edit an agenda item."""
    agenda.update_item(store, actor, ev.AgendaItemUpdated(meeting_id=meeting_id, item_id=item_id, **body.model_dump(exclude_unset=True)))
    return list_items(meeting_id, store, actor)


@router.delete("/{item_id}", status_code=204)
def remove_item(meeting_id: str, item_id: str, store: StoreDep, actor: ActorDep) -> Response:
    """Remove an agenda item and detach its documents."""
    agenda.remove_item(store, actor, meeting_id, item_id)
    return Response(status_code=204)


@router.put("/order")
def reorder(meeting_id: str, body: OrderIn, store: StoreDep, actor: ActorDep) -> list[ItemOut]:
    """Put the agenda in a new order (every item exactly once)."""
    agenda.reorder(store, actor, meeting_id, body.item_ids)
    return list_items(meeting_id, store, actor)


@router.post("/{item_id}/take", status_code=204)
def take_item(meeting_id: str, item_id: str, store: StoreDep, actor: ActorDep) -> Response:
    """Move the meeting on to an agenda item (chair, secretary): what is said from now on belongs to it."""
    agenda.take_item(store, actor, meeting_id, item_id)
    return Response(status_code=204)

"""Private notes on document pages: the caller's own, and nobody else's (not even an administrator's)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict

from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.services import notes

router = APIRouter(prefix="/api/meetings/{meeting_id}/documents/{document_id}/notes", tags=["notes"])


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str  # checked and trimmed by the service; empty removes the note


class NoteOut(BaseModel):
    page: int
    text: str
    updated_at: datetime | None

    @classmethod
    def of(cls, note: notes.Note) -> NoteOut:
        return cls(page=note.page, text=note.text, updated_at=note.updated_at)


PageNo = Annotated[int, Path(ge=1, le=100_000, description="The page, from 1")]


@router.get("")
def list_notes(meeting_id: str, document_id: str, store: StoreDep, actor: ActorDep) -> list[NoteOut]:
    """Your own notes on this document, by page."""
    return [NoteOut.of(n) for n in notes.notes_on(store, actor, meeting_id, document_id)]


@router.get("/{page}")
def get_note(meeting_id: str, document_id: str, page: PageNo, store: StoreDep, actor: ActorDep) -> NoteOut:
    """Your own note on one page (empty text when there is none)."""
    return NoteOut.of(notes.note_on(store, actor, meeting_id, document_id, page))


@router.put("/{page}")
def put_note(meeting_id: str, document_id: str, body: NoteIn, page: PageNo, store: StoreDep, actor: ActorDep) -> NoteOut:
    """Keep your note on one page; an empty text removes it."""
    return NoteOut.of(notes.write_note(store, actor, meeting_id, document_id, page, body.text))

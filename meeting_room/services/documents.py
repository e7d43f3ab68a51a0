"""Documents attached to agenda items (the paperless part)."""

from __future__ import annotations

import re
import uuid
from typing import BinaryIO

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_view
from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError
from meeting_room.files.documents import DocumentFiles, clean_filename
from meeting_room.services.agenda import editable_meeting, item_of
from meeting_room.store import Store
from meeting_room.text import Title


def title_of_filename(name: str) -> str:
    """The title a document shows when none is given: its file name as words ("02_To-trinh_du-toan.pdf"
    -> "02 To trinh du toan"): without the extension, underscores, and the hyphens of a name that has
    no spaces (a slug), as spaces."""
    stem = re.sub(r"\.pdf$", "", name, flags=re.IGNORECASE).strip() or name
    if " " not in stem:
        stem = re.sub(r"(?<=\D)-|-(?=\D)", " ", stem)  # dates and number ranges (2026-11-30, 1-2) keep theirs
    stem = stem.replace("_", " ")
    return " ".join(stem.split()) or name


def may_attach(store: Store, actor: Actor, meeting_id: str, item_id: str) -> None:
    """Whether the actor may attach a document to the item: asked by the route before it reads the
    upload (up to the size limit), so that anyone else is refused before the body is stored."""
    with store.read() as session:
        editable_meeting(session, actor, meeting_id)
        item_of(session, meeting_id, item_id)


_TITLE: TypeAdapter[str] = TypeAdapter(Title)


def _checked_title(title: str | None) -> str | None:
    """A given title as its event will take it, checked before the file is stored: a 600-character
    title refused by the event left its PDF on disk with no document (an attacker's probe)."""
    return _TITLE.validate_python(title) if title and title.strip() else None


def may_replace(store: Store, actor: Actor, meeting_id: str, document_id: str) -> None:
    """Whether the actor may replace the document (like ``may_attach``, before the upload is read)."""
    with store.read() as session:
        editable_meeting(session, actor, meeting_id)
        document_of(session, actor, meeting_id, document_id)


def attach(
    store: Store,
    files: DocumentFiles,
    actor: Actor,
    meeting_id: str,
    item_id: str,
    *,
    source: BinaryIO,
    filename: str | None,
    title: str | None,
) -> str:
    may_attach(store, actor, meeting_id, item_id)
    name = clean_filename(filename)  # refused before anything is stored
    title = _checked_title(title)
    stored = files.ingest(source)
    document_id = str(uuid.uuid4())

    def decide(session: Session) -> ev.EventPayload:
        editable_meeting(session, actor, meeting_id)  # again: the state may have moved meanwhile
        item_of(session, meeting_id, item_id)
        return ev.DocumentAttached(
            meeting_id=meeting_id,
            document_id=document_id,
            agenda_item_id=item_id,
            title=title or title_of_filename(name),
            filename=name,
            sha256=stored.sha256,
            size=stored.size,
            pages=stored.pages,
        )

    store.append(decide, actor_id=actor.member_id)
    return document_id


def replace(
    store: Store,
    files: DocumentFiles,
    actor: Actor,
    meeting_id: str,
    document_id: str,
    *,
    source: BinaryIO,
    filename: str | None,
    title: str | None,
) -> str:
    """A new file in the place of ``document_id``: the old one is detached and the new one attached
    to the same agenda item, in one write; it keeps the old title unless a new one is given."""
    may_replace(store, actor, meeting_id, document_id)
    name = clean_filename(filename)
    title = _checked_title(title)
    stored = files.ingest(source)
    new_id = str(uuid.uuid4())

    def decide(session: Session) -> list[ev.EventPayload]:
        editable_meeting(session, actor, meeting_id)
        old = document_of(session, actor, meeting_id, document_id)  # 404 if someone removed it meanwhile
        return [
            ev.DocumentRemoved(meeting_id=meeting_id, document_id=document_id),
            ev.DocumentAttached(
                meeting_id=meeting_id,
                document_id=new_id,
                agenda_item_id=old.agenda_item_id,
                title=title or old.title,
                filename=name,
                sha256=stored.sha256,
                size=stored.size,
                pages=stored.pages,
                replaces=document_id,
            ),
        ]

    store.append_all(decide, actor_id=actor.member_id)
    return new_id


def document_of(session: Session, actor: Actor, meeting_id: str, document_id: str) -> t.Document:
    meeting = get_meeting(session, meeting_id)
    require_view(session, actor, meeting)
    doc = session.get(t.Document, document_id)
    if doc is None or doc.meeting_id != meeting_id:
        raise NotFoundError(f"Không có tài liệu {document_id}", f"No document {document_id}", id=document_id)
    return doc


def rename(store: Store, actor: Actor, meeting_id: str, document_id: str, title: str) -> None:
    """Give a document the title it should show (while the meeting's documents may still change)."""

    def decide(session: Session) -> list[ev.EventPayload]:
        editable_meeting(session, actor, meeting_id)
        doc = document_of(session, actor, meeting_id, document_id)
        if doc.title == title:
            return []  # the same title again (a double tap): nothing changes, nobody is told of a change
        return [ev.DocumentRenamed(meeting_id=meeting_id, document_id=document_id, title=title)]

    store.append_all(decide, actor_id=actor.member_id)


def remove(store: Store, actor: Actor, meeting_id: str, document_id: str) -> None:
    def decide(session: Session) -> ev.EventPayload:
        editable_meeting(session, actor, meeting_id)
        document_of(session, actor, meeting_id, document_id)
        return ev.DocumentRemoved(meeting_id=meeting_id, document_id=document_id)

    store.append(decide, actor_id=actor.member_id)

"""Private notes on document pages: each person's own, read and written only by that person.

Not events (``tables.DocumentNote`` says why): a note is written in one short transaction beside
the log, never appended to it, so staff, exports and the record never see it. Every read and write
is keyed by the actor's own id; no function here takes another person's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meeting_room.access import Actor, require_own_login
from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError, NotFoundError
from meeting_room.services.documents import document_of
from meeting_room.store import Store
from meeting_room.text import check_text, nfc

MAX_CHARS = 20_000  # one page's note
MAX_DOCUMENT_CHARS = 500_000  # one person's notes on one document, all pages: room for a long text, not a disk to fill


@dataclass(frozen=True)
class Note:
    page: int
    text: str
    updated_at: datetime | None  # None: no note on this page yet


def _document(session: Session, actor: Actor, meeting_id: str, document_id: str) -> t.Document:
    if actor.display:  # a hall screen is nobody: it has no notes (nor documents)
        raise NotFoundError(f"Không có tài liệu {document_id}", f"No document {document_id}", id=document_id)
    doc = document_of(session, actor, meeting_id, document_id)
    require_own_login(actor, action_vi="đọc hay ghi ghi chú riêng", action_en="read or write private notes")
    return doc


def _check_page(doc: t.Document, page: int) -> None:
    if not 1 <= page <= doc.pages:
        raise InvalidInputError(
            f"Tài liệu có {doc.pages} trang; không có trang {page}",
            f"The document has {doc.pages} pages; there is no page {page}",
            field="page", allowed=f"1..{doc.pages}", received=page,
        )  # fmt: skip


def notes_on(store: Store, actor: Actor, meeting_id: str, document_id: str) -> list[Note]:
    """The actor's own notes on a document, by page."""
    with store.read() as session:
        _document(session, actor, meeting_id, document_id)
        rows = session.scalars(
            select(t.DocumentNote)
            .where(t.DocumentNote.member_id == actor.member_id, t.DocumentNote.document_id == document_id)
            .order_by(t.DocumentNote.page)
        )
        return [Note(r.page, r.text, r.updated_at) for r in rows]


def note_on(store: Store, actor: Actor, meeting_id: str, document_id: str, page: int) -> Note:
    """The actor's own note on one page (empty when there is none)."""
    with store.read() as session:
        _check_page(_document(session, actor, meeting_id, document_id), page)
        row = session.get(t.DocumentNote, (actor.member_id, document_id, page))
        return Note(page, row.text, row.updated_at) if row else Note(page, "", None)


def write_note(store: Store, actor: Actor, meeting_id: str, document_id: str, page: int, text: str) -> Note:
    """Keep ``text`` as the actor's note on the page; an empty text removes the note."""
    text = nfc(check_text(text, "text", multiline=True)).strip()
    if len(text) > MAX_CHARS:
        raise InvalidInputError(
            f"Ghi chú dài tối đa {MAX_CHARS} ký tự", f"A note is at most {MAX_CHARS} characters",
            field="text", allowed=MAX_CHARS, received=len(text),
        )  # fmt: skip
    with store.exclusive() as session:
        _check_page(_document(session, actor, meeting_id, document_id), page)
        row = session.get(t.DocumentNote, (actor.member_id, document_id, page))
        others = (
            session.scalar(
                select(func.sum(func.length(t.DocumentNote.text))).where(
                    t.DocumentNote.member_id == actor.member_id, t.DocumentNote.document_id == document_id, t.DocumentNote.page != page
                )
            )
            or 0
        )
        grows = len(text) > len(row.text if row else "")  # shortening or removing a note is never refused
        if grows and others + len(text) > MAX_DOCUMENT_CHARS:
            left = max(0, MAX_DOCUMENT_CHARS - others)
            cap_vi, left_vi = f"{MAX_DOCUMENT_CHARS:,}".replace(",", "."), f"{left:,}".replace(",", ".")  # 500.000, as read in Vietnam
            raise InvalidInputError(
                f"Ghi chú trên một tài liệu dài tối đa {cap_vi} ký tự cộng lại; trang này còn ghi được {left_vi} ký tự",
                f"Notes on one document are at most {MAX_DOCUMENT_CHARS:,} characters together; this page has {left:,} left",
                field="text", allowed=left, received=len(text),
            )  # fmt: skip
        if not text:
            if row is not None:
                session.delete(row)
            return Note(page, "", None)
        now = store.now()
        if row is None:
            session.add(t.DocumentNote(member_id=actor.member_id, document_id=document_id, page=page, text=text, updated_at=now))
        else:
            row.text, row.updated_at = text, now
        return Note(page, text, now)

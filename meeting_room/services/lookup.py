"""Fetch-or-404 helpers shared by the commands."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError

Row = TypeVar("Row", t.Body, t.Member, t.Room, t.AgendaItem, t.Document)
_NAMES = {
    t.Body: ("cơ quan", "body"),
    t.Member: ("thành viên", "member"),
    t.Room: ("phòng họp", "room"),
    t.AgendaItem: ("mục chương trình", "agenda item"),
    t.Document: ("tài liệu", "document"),
}


def fetch(session: Session, table: type[Row], row_id: str) -> Row:
    row = session.get(table, row_id)
    if row is None:
        vi, en = _NAMES[table]
        raise NotFoundError(f"Không có {vi} {row_id}", f"No {en} {row_id}", id=row_id)
    return row

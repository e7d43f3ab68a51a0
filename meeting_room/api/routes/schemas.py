"""Response models shared by several routers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from meeting_room.db import tables as t

# Every integer a client sends is bounded: an unbounded one overflows the database's 64-bit integers (a 500).
MAX_EVENT_ID = 2**53 - 1  # event ids are exact in JavaScript below this
MAX_VERSION = 1_000_000
EventId = Annotated[int, Query(ge=0, le=MAX_EVENT_ID, description="An event id (0: from the start)")]
Version = Annotated[int | None, Query(ge=0, le=MAX_VERSION, description="A saved version (none: the latest; 0: the draft)")]
Channel = Annotated[int, Field(ge=0, le=255)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MemberOut(Out):
    id: str
    body_id: str | None
    full_name: str
    title: str | None
    roles: list[str]
    username: str | None
    active: bool
    created_at: datetime
    email: str | None = None


def member_out(row: t.Member, *, email: bool = True) -> MemberOut:
    """``email``: whether the reader may see the address (``members.sees_email``)."""
    out = MemberOut.model_validate(row)
    return out if email else out.model_copy(update={"email": None})

"""Response models shared by several routers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from meeting_room.db import tables as t


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


def member_out(row: t.Member) -> MemberOut:
    return MemberOut.model_validate(row)

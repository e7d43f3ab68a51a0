"""Bodies (organisations): People's Councils, Committees, departments."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, require_roles
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError
from meeting_room.roles import BodyKind
from meeting_room.services.lookup import fetch
from meeting_room.store import Store


def _name_free(session: Session, name: str, except_id: str | None = None) -> None:
    other = session.scalar(select(t.Body).where(t.Body.name == name))
    if other is not None and other.id != except_id:
        raise ConflictError(f"Đã có cơ quan tên “{name}”", f"A body named {name!r} already exists", id=other.id)


def create_body(
    store: Store, actor: Actor, *, name: str, short_name: str, parent_name: str | None = None, kind: BodyKind = BodyKind.OTHER
) -> str:
    require_roles(actor, action_vi="tạo cơ quan", action_en="create bodies")
    payload = ev.BodyCreated(body_id=str(uuid.uuid4()), name=name, short_name=short_name, parent_name=parent_name, kind=kind)

    def decide(session: Session) -> ev.EventPayload:
        _name_free(session, payload.name)
        return payload

    store.append(decide, actor_id=actor.member_id)
    return payload.body_id


def update_body(store: Store, actor: Actor, payload: ev.BodyUpdated) -> None:
    require_roles(actor, action_vi="sửa cơ quan", action_en="edit bodies")

    def decide(session: Session) -> ev.EventPayload:
        fetch(session, t.Body, payload.body_id)
        if payload.name:
            _name_free(session, payload.name, payload.body_id)
        return payload

    store.append(decide, actor_id=actor.member_id)

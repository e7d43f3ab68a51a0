"""Agenda items of a meeting."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, NotFoundError
from meeting_room.lifecycle import EDITABLE, RUNNING, MeetingState, require_state
from meeting_room.services.lookup import fetch
from meeting_room.store import Store


def editable_meeting(session: Session, actor: Actor, meeting_id: str) -> t.Meeting:
    meeting = get_meeting(session, meeting_id)
    require_staff(session, actor, meeting, action_vi="sửa chương trình họp", action_en="edit the agenda")
    require_state(meeting.id, MeetingState(meeting.state), EDITABLE, "sửa chương trình họp", "edit the agenda", title=meeting.title)
    return meeting


def item_of(session: Session, meeting_id: str, item_id: str) -> t.AgendaItem:
    item = session.get(t.AgendaItem, item_id)
    if item is None or item.meeting_id != meeting_id:
        raise NotFoundError(f"Cuộc họp không có mục chương trình {item_id}", f"The meeting has no agenda item {item_id}", id=item_id)
    return item


def add_item(
    store: Store, actor: Actor, meeting_id: str, *, title: str, description: str | None = None, presenter_id: str | None = None
) -> str:
    item_id = str(uuid.uuid4())

    def decide(session: Session) -> ev.EventPayload:
        editable_meeting(session, actor, meeting_id)
        if presenter_id is not None:
            fetch(session, t.Member, presenter_id)
        last = session.scalar(select(func.max(t.AgendaItem.position)).where(t.AgendaItem.meeting_id == meeting_id)) or 0
        return ev.AgendaItemAdded(
            meeting_id=meeting_id,
            item_id=item_id,
            position=last + 1,
            title=title,
            description=description,
            presenter_id=presenter_id,
        )

    store.append(decide, actor_id=actor.member_id)
    return item_id


def update_item(store: Store, actor: Actor, payload: ev.AgendaItemUpdated) -> None:
    def decide(session: Session) -> ev.EventPayload:
        editable_meeting(session, actor, payload.meeting_id)
        item_of(session, payload.meeting_id, payload.item_id)
        if payload.presenter_id is not None:
            fetch(session, t.Member, payload.presenter_id)
        return payload

    store.append(decide, actor_id=actor.member_id)


def remove_item(store: Store, actor: Actor, meeting_id: str, item_id: str) -> None:
    def decide(session: Session) -> ev.EventPayload:
        editable_meeting(session, actor, meeting_id)
        item_of(session, meeting_id, item_id)
        return ev.AgendaItemRemoved(meeting_id=meeting_id, item_id=item_id)

    store.append(decide, actor_id=actor.member_id)


def reorder(store: Store, actor: Actor, meeting_id: str, item_ids: list[str]) -> None:
    def decide(session: Session) -> ev.EventPayload:
        editable_meeting(session, actor, meeting_id)
        current = set(session.scalars(select(t.AgendaItem.id).where(t.AgendaItem.meeting_id == meeting_id)))
        if len(item_ids) != len(set(item_ids)) or set(item_ids) != current:
            raise InvalidInputError(
                "Thứ tự mới phải liệt kê mỗi mục chương trình của cuộc họp đúng một lần",
                "The new order must list every agenda item of the meeting exactly once",
                expected=sorted(current),
                received=item_ids,
            )
        return ev.AgendaReordered(meeting_id=meeting_id, item_ids=item_ids)

    store.append(decide, actor_id=actor.member_id)


def take_item(store: Store, actor: Actor, meeting_id: str, item_id: str) -> None:
    """The chair (or secretary) moves the meeting on to an item; captions from now on belong to it."""

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="chuyển sang mục chương trình", action_en="move to an agenda item")
        require_state(
            meeting.id, MeetingState(meeting.state), RUNNING, "chuyển mục chương trình", "move to an agenda item", title=meeting.title
        )
        item_of(session, meeting_id, item_id)
        if meeting.current_item_id == item_id:
            raise ConflictError("Cuộc họp đang ở mục này rồi", "The meeting is already on this item", item_id=item_id)
        return ev.AgendaItemTaken(meeting_id=meeting_id, item_id=item_id)

    store.append(decide, actor_id=actor.member_id)

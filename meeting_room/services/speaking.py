"""Speaking time (thời gian phát biểu): how long one turn may last. The meeting has a default, an
agenda item may override it; the turn of whoever has the floor runs against the limit of the item
under discussion. Pages count down from when the floor was given."""

from __future__ import annotations

from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError, NotFoundError
from meeting_room.lifecycle import EDITABLE, MeetingState, require_state
from meeting_room.store import Store

MIN_S, MAX_S = 10, 3600


def set_limit(store: Store, actor: Actor, meeting_id: str, seconds: int | None, item_id: str | None = None) -> None:
    """Set (or with ``None`` remove) the meeting's default limit, or one agenda item's override."""
    if seconds is not None and not MIN_S <= seconds <= MAX_S:
        raise InvalidInputError(
            f"Thời gian mỗi lượt phát biểu phải từ {MIN_S} giây đến {MAX_S // 60} phút (nhận {seconds} giây)",
            f"A turn to speak lasts {MIN_S} s to {MAX_S // 60} min (got {seconds} s)",
            field="seconds",
        )

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="đặt thời gian phát biểu", action_en="set the speaking time")
        require_state(meeting.id, MeetingState(meeting.state), EDITABLE, "đặt thời gian phát biểu", "set the speaking time")
        if item_id is not None:
            item = session.get(t.AgendaItem, item_id)
            if item is None or item.meeting_id != meeting_id:
                raise NotFoundError("Không có mục này trong chương trình họp", "No such agenda item in this meeting", item_id=item_id)
        return ev.SpeakingLimitSet(meeting_id=meeting_id, item_id=item_id, seconds=seconds)

    store.append(decide, actor_id=actor.member_id)


def limit_for(session: Session, meeting: t.Meeting) -> int | None:
    """Seconds a turn may last now: the current item's override, else the meeting's default (None: no limit)."""
    item = session.get(t.AgendaItem, meeting.current_item_id) if meeting.current_item_id else None
    if item is not None and item.speaking_limit_s is not None:
        return item.speaking_limit_s
    return meeting.speaking_limit_s

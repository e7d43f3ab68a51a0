"""The floor (quyền phát biểu): members ask to speak, the chair gives the floor in turn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, meeting_role, require_staff, require_view
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, NotFoundError, PermissionDeniedError
from meeting_room.lifecycle import MeetingState, require_state
from meeting_room.services import speaking
from meeting_room.store import Store

_SPEAKING = frozenset({MeetingState.IN_SESSION})


@dataclass(frozen=True)
class Waiting:
    member_id: str
    full_name: str
    since: datetime


@dataclass(frozen=True)
class Floor:
    """Who speaks now and who waits, in the order they asked; how long a turn may last (seconds,
    None: no limit) and when the current one runs out."""

    speaker: Waiting | None
    queue: list[Waiting]
    limit_s: int | None = None

    @property
    def ends_at(self) -> datetime | None:
        return self.speaker.since + timedelta(seconds=self.limit_s) if self.speaker and self.limit_s else None


def _in_session(meeting: t.Meeting, what_vi: str, what_en: str) -> None:
    require_state(meeting.id, MeetingState(meeting.state), _SPEAKING, what_vi, what_en, title=meeting.title)


def _participant(session: Session, meeting: t.Meeting, member_id: str) -> None:
    if member_id in (meeting.chair_id, meeting.secretary_id) or session.get(t.Participant, (meeting.id, member_id)) is not None:
        return
    raise NotFoundError(f"{member_id} không tham dự cuộc họp này", f"{member_id} does not take part in this meeting", member_id=member_id)


def _waiting(meeting: t.Meeting) -> list[str]:
    return [entry[0] for entry in meeting.floor_queue or []]


def request(store: Store, actor: Actor, meeting_id: str) -> None:
    """The caller asks to speak; asking twice is refused (409) rather than queued twice."""

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        if meeting_role(session, actor, meeting) is None:
            raise PermissionDeniedError(
                "Chỉ người tham dự cuộc họp mới được đăng ký phát biểu", "Only participants of the meeting may ask to speak"
            )
        _in_session(meeting, "đăng ký phát biểu", "ask to speak")
        if actor.member_id in _waiting(meeting):
            raise ConflictError("Bạn đã đăng ký phát biểu, đang chờ chủ tọa mời", "You have already asked to speak; wait for the chair")
        if meeting.floor_speaker and meeting.floor_speaker[0] == actor.member_id:
            raise ConflictError("Bạn đang được phát biểu", "You have the floor already")
        return ev.FloorRequested(meeting_id=meeting_id, member_id=actor.member_id)

    store.append(decide, actor_id=actor.member_id)


def withdraw(store: Store, actor: Actor, meeting_id: str, member_id: str) -> None:
    """A member withdraws their own request; the chair or secretary may decline anyone's."""

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        if member_id != actor.member_id:
            require_staff(session, actor, meeting, action_vi="hủy lượt đăng ký phát biểu", action_en="decline a request to speak")
        else:
            require_view(session, actor, meeting)
        if member_id not in _waiting(meeting):
            raise ConflictError("Người này không có trong danh sách chờ phát biểu", "Not in the queue to speak", member_id=member_id)
        return ev.FloorWithdrawn(meeting_id=meeting_id, member_id=member_id)

    store.append(decide, actor_id=actor.member_id)


def give(store: Store, actor: Actor, meeting_id: str, member_id: str) -> None:
    """The chair gives the floor (to the next in the queue, or to anyone taking part)."""

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="mời phát biểu", action_en="give the floor")
        _in_session(meeting, "mời phát biểu", "give the floor")
        _participant(session, meeting, member_id)
        current = meeting.floor_speaker[0] if meeting.floor_speaker else None
        if current == member_id:
            raise ConflictError("Người này đang phát biểu", "This person has the floor already", member_id=member_id)
        ended = [ev.FloorEnded(meeting_id=meeting_id, member_id=current)] if current else []
        return [*ended, ev.FloorGiven(meeting_id=meeting_id, member_id=member_id)]

    store.append_all(decide, actor_id=actor.member_id)


def end(store: Store, actor: Actor, meeting_id: str) -> None:
    """The speaker finishes, or the chair takes the floor back."""

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        current = meeting.floor_speaker[0] if meeting.floor_speaker else None
        if current != actor.member_id:
            require_staff(session, actor, meeting, action_vi="kết thúc lượt phát biểu", action_en="end someone's turn to speak")
        if current is None:
            raise ConflictError("Không có ai đang phát biểu", "Nobody has the floor")
        return ev.FloorEnded(meeting_id=meeting_id, member_id=current)

    store.append(decide, actor_id=actor.member_id)


def floor_of(session: Session, meeting: t.Meeting) -> Floor:
    ids = _waiting(meeting) + ([meeting.floor_speaker[0]] if meeting.floor_speaker else [])
    names = dict(session.execute(select(t.Member.id, t.Member.full_name).where(t.Member.id.in_(ids))).all()) if ids else {}

    def entry(member_id: str, since: str) -> Waiting:
        return Waiting(member_id, names.get(member_id, member_id), datetime.fromisoformat(since))

    return Floor(
        speaker=entry(*meeting.floor_speaker) if meeting.floor_speaker else None,
        queue=[entry(member_id, since) for member_id, since in meeting.floor_queue or []],
        limit_s=speaking.limit_for(session, meeting),
    )

"""Meetings: scheduling, participants and the lifecycle."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, holds, require_meeting_role, require_preparer, require_roles, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError
from meeting_room.lifecycle import RUNNING, MeetingState, check_transition, require_state
from meeting_room.moments import check_moment
from meeting_room.reads import meeting_views
from meeting_room.roles import MeetingRole, Role
from meeting_room.services.lookup import fetch
from meeting_room.store import Store
from voting import PollState

S = MeetingState
_EDITABLE_DETAILS = frozenset({S.SCHEDULED, S.OPEN})
_PUBLISHABLE = RUNNING | {S.SCHEDULED}  # an ended or cancelled meeting has nobody left to invite

# Who may move a meeting into each state: roles in the meeting, and standing roles.
_TRANSITION_RIGHTS: dict[MeetingState, tuple[set[MeetingRole], tuple[Role, ...]]] = {
    S.OPEN: ({MeetingRole.CHAIR, MeetingRole.SECRETARY}, ()),
    S.CANCELLED: ({MeetingRole.CHAIR, MeetingRole.SECRETARY}, ()),
    S.IN_SESSION: ({MeetingRole.CHAIR}, ()),
    S.ADJOURNED: ({MeetingRole.CHAIR}, ()),
    S.CLOSED: ({MeetingRole.CHAIR}, ()),
    S.MINUTES_SIGNED: ({MeetingRole.CHAIR, MeetingRole.SECRETARY}, (Role.CLERK,)),
    S.ARCHIVED: (set(), (Role.CLERK,)),
}


def _check_people(session: Session, chair_id: str | None, secretary_id: str | None) -> None:
    for member_id, what_vi, what_en in ((chair_id, "Chủ tọa", "chair"), (secretary_id, "Thư ký", "secretary")):
        if member_id is None:
            continue
        member = fetch(session, t.Member, member_id)
        if not member.active:
            raise InvalidInputError(
                f"{what_vi} {member.full_name} đã bị khóa tài khoản",
                f"The {what_en} {member_id} is disabled",
                member_id=member_id,
            )
    if chair_id is not None and chair_id == secretary_id:
        raise InvalidInputError("Chủ tọa và thư ký phải là hai người khác nhau", "The chair and the secretary must be different people")


def _check_times(starts_at: datetime, ends_at: datetime | None) -> None:
    check_moment(starts_at, "starts_at")
    if ends_at is not None:
        check_moment(ends_at, "ends_at")
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInputError(
            "Giờ kết thúc phải sau giờ bắt đầu",
            "ends_at must be after starts_at",
            starts_at=starts_at.isoformat(),
            ends_at=ends_at.isoformat(),
        )


def schedule_meeting(store: Store, actor: Actor, payload: ev.MeetingScheduled, *, invite_body_members: bool = True) -> str:
    """Schedule a meeting; the chair, the secretary and (by default) every active member of the body take part."""
    require_roles(actor, Role.CHAIR, Role.SECRETARY, action_vi="lên lịch cuộc họp", action_en="schedule meetings")
    _check_times(payload.starts_at, payload.ends_at)

    def decide(session: Session) -> list[ev.EventPayload]:
        fetch(session, t.Body, payload.body_id)
        if payload.room_id is not None:
            fetch(session, t.Room, payload.room_id)
        _check_people(session, payload.chair_id, payload.secretary_id)
        people: list[tuple[str, MeetingRole]] = []
        if payload.chair_id:
            people.append((payload.chair_id, MeetingRole.CHAIR))
        if payload.secretary_id:
            people.append((payload.secretary_id, MeetingRole.SECRETARY))
        if invite_body_members:
            body_members = session.scalars(
                select(t.Member.id).where(t.Member.body_id == payload.body_id, t.Member.active.is_(True)).order_by(t.Member.full_name)
            ).all()
            people += [(m, MeetingRole.MEMBER) for m in body_members if m not in (payload.chair_id, payload.secretary_id)]
        return [payload] + [ev.ParticipantAdded(meeting_id=payload.meeting_id, member_id=m, role=role) for m, role in people]

    store.append_all(decide, actor_id=actor.member_id)
    return payload.meeting_id


def new_meeting_id() -> str:
    return str(uuid.uuid4())


def update_meeting(store: Store, actor: Actor, payload: ev.MeetingUpdated) -> None:
    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, payload.meeting_id)
        require_staff(session, actor, meeting, action_vi="sửa thông tin cuộc họp", action_en="edit the meeting")
        require_state(meeting.id, S(meeting.state), _EDITABLE_DETAILS, "sửa thông tin cuộc họp", "edit the meeting", title=meeting.title)
        if payload.room_id is not None:
            fetch(session, t.Room, payload.room_id)
        chair = payload.chair_id if "chair_id" in payload.model_fields_set else meeting.chair_id
        secretary = payload.secretary_id if "secretary_id" in payload.model_fields_set else meeting.secretary_id
        _check_people(session, chair, secretary)
        ends_at = payload.ends_at if "ends_at" in payload.model_fields_set else meeting.ends_at
        _check_times(payload.starts_at or meeting.starts_at, ends_at)
        appointed = [
            ev.ParticipantAdded(meeting_id=meeting.id, member_id=member_id, role=role)
            for member_id, role in ((payload.chair_id, MeetingRole.CHAIR), (payload.secretary_id, MeetingRole.SECRETARY))
            if member_id is not None
        ]
        return [payload, *appointed]

    store.append_all(decide, actor_id=actor.member_id)


def may_move(session: Session, actor: Actor, meeting: t.Meeting, target: MeetingState) -> bool:
    """Whether the actor may move the meeting to ``target`` (its state aside): the pages offer only that."""
    allowed_roles, standing = _TRANSITION_RIGHTS.get(target, (set(), ()))
    return holds(session, actor, meeting, allowed_roles, standing)


def transition(store: Store, actor: Actor, meeting_id: str, target: MeetingState, reason: str | None = None) -> ev.MeetingStateChanged:
    """Move the meeting to ``target``: the state is checked inside the write transaction, so of two
    conflicting requests exactly one succeeds and the other gets a 409."""
    allowed_roles, standing = _TRANSITION_RIGHTS.get(target, (set(), ()))

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_meeting_role(
            session,
            actor,
            meeting,
            allowed_roles,
            also=standing,
            action_vi=f"chuyển cuộc họp sang “{target.label_vi}”",
            action_en=f"move the meeting to {target.value.replace('_', ' ')}",
        )
        current = S(meeting.state)
        check_transition(meeting_id, current, target, title=meeting.title)
        if target in (S.CLOSED, S.CANCELLED):
            open_polls = session.scalars(
                select(t.Poll.title).where(t.Poll.meeting_id == meeting_id, t.Poll.state == PollState.OPEN.value)
            ).all()
            if open_polls:
                raise ConflictError(
                    f"Còn phiên biểu quyết đang mở: {', '.join(open_polls)}. Hãy kết thúc hoặc hủy trước",
                    f"Polls are still open: {', '.join(open_polls)}. Close or cancel them first",
                    open_polls=list(open_polls),
                )
        return ev.MeetingStateChanged(meeting_id=meeting_id, from_state=current, to_state=target, reason=reason)

    stored = store.append(decide, actor_id=actor.member_id)
    return ev.MeetingStateChanged.model_validate(stored.data)


def publish_meeting(store: Store, actor: Actor, meeting_id: str) -> ev.MeetingPublished:
    """Send the invitation ("Gửi giấy mời"): the participants see the meeting with its agenda and
    documents. Sent again only when the meeting, its agenda or its documents changed since."""

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_preparer(session, actor, meeting, action_vi="gửi giấy mời", action_en="publish the meeting")
        require_state(meeting.id, S(meeting.state), _PUBLISHABLE, "gửi giấy mời", "publish the meeting", title=meeting.title)
        if meeting.published_at is None:
            return ev.MeetingPublished(meeting_id=meeting_id)
        if meeting.changed_at is None or meeting.changed_at <= meeting.published_at:
            raise ConflictError(
                f"Giấy mời cuộc họp “{meeting.title}” đã được gửi và từ đó chưa có gì thay đổi: không cần gửi lại",
                f"The invitation to “{meeting.title}” was already sent and nothing has changed since: there is nothing to send again",
                meeting_id=meeting_id,
                published_at=meeting.published_at.isoformat(),
            )
        return ev.MeetingPublished(meeting_id=meeting_id, republish=True)

    stored = store.append(decide, actor_id=actor.member_id)
    return ev.MeetingPublished.model_validate(stored.data)


def note_opened(store: Store, actor: Actor, meeting: t.Meeting, seen_at: datetime | None) -> None:
    """The person opened the meeting (``seen_at``: when they last did): the "changed since you looked"
    mark goes. Not an event: reading changes no meeting state."""
    if actor.display or not meeting_views.stale(meeting, seen_at):
        return
    with store.exclusive() as session:
        meeting_views.mark_seen(session, actor.member_id, meeting.id, store.now())


def add_participant(store: Store, actor: Actor, meeting_id: str, member_id: str, role: MeetingRole) -> None:
    if role in (MeetingRole.CHAIR, MeetingRole.SECRETARY):
        raise InvalidInputError(
            "Chủ tọa và thư ký được chỉ định trong thông tin cuộc họp",
            "Set the chair and secretary on the meeting itself",
            accepted=[MeetingRole.MEMBER.value, MeetingRole.GUEST.value],
        )

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="mời người dự họp", action_en="invite participants")
        require_state(
            meeting.id,
            S(meeting.state),
            _EDITABLE_DETAILS | {S.IN_SESSION, S.ADJOURNED},
            "mời thêm người dự họp",
            "invite participants",
            title=meeting.title,
        )
        fetch(session, t.Member, member_id)
        return ev.ParticipantAdded(meeting_id=meeting_id, member_id=member_id, role=role)

    store.append(decide, actor_id=actor.member_id)


def remove_participant(store: Store, actor: Actor, meeting_id: str, member_id: str) -> None:
    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="bỏ người dự họp", action_en="remove participants")
        require_state(meeting.id, S(meeting.state), _EDITABLE_DETAILS, "bỏ người dự họp", "remove participants", title=meeting.title)
        if member_id in (meeting.chair_id, meeting.secretary_id):
            raise InvalidInputError(
                "Không thể bỏ chủ tọa hoặc thư ký; hãy chỉ định người khác trước",
                "Cannot remove the chair or secretary; appoint someone else first",
            )
        if session.get(t.Participant, (meeting_id, member_id)) is None:
            raise InvalidInputError(
                f"Thành viên {member_id} không dự cuộc họp này",
                f"Member {member_id} is not a participant",
            )
        return ev.ParticipantRemoved(meeting_id=meeting_id, member_id=member_id)

    store.append(decide, actor_id=actor.member_id)

"""Meetings: schedule, read, edit, participants and lifecycle transitions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, MeetingPermissions, get_meeting, meeting_role, permissions, require_view, visible_meetings
from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep
from meeting_room.api.paging import PAGED, PageDep, fetch_page
from meeting_room.db import tables as t
from meeting_room.lifecycle import TRANSITIONS, MeetingState
from meeting_room.moments import Moment
from meeting_room.reads import meeting_views
from meeting_room.roles import BodyKind, MeetingRole
from meeting_room.services import meetings
from meeting_room.text import LongText, Title

router = APIRouter(prefix="/api/meetings", tags=["meetings"])


class MeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body_id: str
    title: Title
    room_id: str | None = None
    starts_at: Moment
    ends_at: Moment | None = None
    chair_id: str | None = None
    secretary_id: str | None = None
    invite_body_members: bool = True


class MeetingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    room_id: str | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    chair_id: str | None = None
    secretary_id: str | None = None


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: MeetingState
    reason: LongText | None = None


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str
    role: MeetingRole = MeetingRole.MEMBER


class ParticipantOut(BaseModel):
    member_id: str
    full_name: str
    title: str | None
    role: MeetingRole


class MeetingOut(BaseModel):
    id: str
    body_id: str
    title: str
    room_id: str | None
    starts_at: datetime
    ends_at: datetime | None
    state: MeetingState
    state_label: str = Field(description="The state in Vietnamese")
    state_changed_at: datetime
    next_states: list[MeetingState] = Field(description="The states this user may move the meeting to now")
    chair_id: str | None
    secretary_id: str | None
    my_role: MeetingRole | None
    can: MeetingPermissions = Field(description="What you may do in this meeting: the pages offer only that")
    last_event_id: int
    created_at: datetime
    current_item_id: str | None = Field(None, description="The agenda item under discussion")
    devices: dict[str, dict[str, str | None]] = Field(
        default_factory=dict, description="Room devices that were lost or came back during the meeting: {kind, state, detail, since}"
    )
    started_at: datetime | None = Field(None, description="When the session first began (the meeting as actually held)")
    closed_at: datetime | None = Field(None, description="When the meeting was closed")
    body_kind: BodyKind = Field(BodyKind.OTHER, description="The body's kind")
    member_term: str = Field("thành viên", description="What the body's members are called: “đại biểu” (a council) or “thành viên”")
    member_term_en: str = Field("member", description="The same in English: “delegate” or “member”")
    default_rule: str = Field("majority_present", description="The voting rule preset a new vote starts with (the body's setting)")
    speaking_limit_s: int | None = Field(None, description="How long a turn to speak may last (seconds) unless the item says otherwise")
    room_name: str | None = Field(None, description="The room's name")
    published_at: datetime | None = Field(None, description="When its invitation last went out (gửi giấy mời); null: not yet")
    changed_since_seen: bool = Field(
        False, description="Its details, agenda or documents changed after the invitation went out and after you last opened it"
    )
    cancel_reason: str | None = Field(None, description="Why the meeting was cancelled (when it was)")


def meeting_out(session: Session, actor: Actor, m: t.Meeting, *, changed_since_seen: bool = False) -> MeetingOut:
    state = MeetingState(m.state)
    body = session.get(t.Body, m.body_id)
    kind = BodyKind(body.kind) if body is not None else BodyKind.OTHER
    return MeetingOut(
        id=m.id,
        body_id=m.body_id,
        title=m.title,
        room_id=m.room_id,
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        state=state,
        state_label=state.label_vi,
        state_changed_at=m.state_changed_at,
        next_states=[s for s in sorted(TRANSITIONS[state]) if meetings.may_move(session, actor, m, s)],
        chair_id=m.chair_id,
        secretary_id=m.secretary_id,
        my_role=meeting_role(session, actor, m),
        can=permissions(session, actor, m),
        last_event_id=m.last_seq,
        created_at=m.created_at,
        current_item_id=m.current_item_id,
        devices=m.devices or {},
        started_at=m.started_at,
        closed_at=m.closed_at,
        body_kind=kind,
        member_term=kind.member_term,
        member_term_en=kind.member_term_en,
        default_rule=kind.default_rule,
        speaking_limit_s=m.speaking_limit_s,
        room_name=room.name if m.room_id and (room := session.get(t.Room, m.room_id)) else None,
        published_at=m.published_at,
        changed_since_seen=changed_since_seen,
        cancel_reason=m.cancel_reason,
    )


@router.get("", responses=PAGED)
def list_meetings(
    store: StoreDep,
    actor: ActorDep,
    settings: SettingsDep,
    page: PageDep,
    request: Request,
    response: Response,
    state: Annotated[list[MeetingState] | None, Query(description="Only these states (repeat the parameter for several)")] = None,
    body_id: str | None = None,
    date_from: Annotated[date | None, Query(description="Starting on or after this day (the server's time zone)")] = None,
    date_to: Annotated[date | None, Query(description="Starting on or before this day (the server's time zone)")] = None,
) -> list[MeetingOut]:
    """Your meetings, newest first, a page at a time (admins and clerks: all; a body's chairs and
    secretaries: all of their body; participants: a scheduled one once its invitation went out)."""
    query = select(t.Meeting).order_by(t.Meeting.starts_at.desc(), t.Meeting.id)
    if (listed := visible_meetings(actor)) is not None:
        query = query.where(listed)
    if state:
        query = query.where(t.Meeting.state.in_([s.value for s in state]))
    if body_id is not None:
        query = query.where(t.Meeting.body_id == body_id)
    zone = ZoneInfo(settings.timezone)
    if date_from is not None:
        query = query.where(t.Meeting.starts_at >= datetime.combine(date_from, time(), zone))
    if date_to is not None:
        query = query.where(t.Meeting.starts_at < datetime.combine(date_to + timedelta(days=1), time(), zone))
    with store.read() as session:
        rows = fetch_page(session, query, page, request, response)
        seen = meeting_views.seen_times(session, actor.member_id, (m.id for m in rows))
        return [meeting_out(session, actor, m, changed_since_seen=meeting_views.changed_since_seen(m, seen.get(m.id))) for m in rows]


@router.post("", status_code=201)
def schedule_meeting(body: MeetingIn, store: StoreDep, actor: ActorDep) -> MeetingOut:
    """Schedule a meeting (admin, chair or secretary); by default every active member of the body is invited."""
    data = body.model_dump(exclude={"invite_body_members"}, exclude_unset=True)
    payload = ev.MeetingScheduled(meeting_id=meetings.new_meeting_id(), **data)
    meeting_id = meetings.schedule_meeting(store, actor, payload, invite_body_members=body.invite_body_members)
    return get_meeting_route(meeting_id, store, actor)


@router.get("/{meeting_id}")
def get_meeting_route(meeting_id: str, store: StoreDep, actor: ActorDep) -> MeetingOut:
    """One meeting, with the caller's role in it and the states it can move to. Opening it clears its
    "changed since you looked" mark on your home page."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        seen = meeting_views.seen_times(session, actor.member_id, [meeting_id]).get(meeting_id)
        out = meeting_out(session, actor, meeting)
    meetings.note_opened(store, actor, meeting, seen)
    return out


@router.post("/{meeting_id}/publish")
def publish_meeting(meeting_id: str, store: StoreDep, actor: ActorDep) -> MeetingOut:
    """Send the invitation (gửi giấy mời): the participants see the meeting, its agenda and documents on
    their home page (its chair, secretary or body's staff). Again only after something changed (else 409)."""
    meetings.publish_meeting(store, actor, meeting_id)
    return get_meeting_route(meeting_id, store, actor)


@router.patch("/{meeting_id}")
def update_meeting(meeting_id: str, body: MeetingPatch, store: StoreDep, actor: ActorDep) -> MeetingOut:
    """Edit title, room, times, chair or secretary (its chair or secretary; before the session starts)."""
    meetings.update_meeting(store, actor, ev.MeetingUpdated(meeting_id=meeting_id, **body.model_dump(exclude_unset=True)))
    return get_meeting_route(meeting_id, store, actor)


@router.post("/{meeting_id}/transitions")
def transition(meeting_id: str, body: TransitionIn, store: StoreDep, actor: ActorDep) -> MeetingOut:
    """Move the meeting along its lifecycle; an illegal transition is refused with 409."""
    meetings.transition(store, actor, meeting_id, body.to, body.reason)
    return get_meeting_route(meeting_id, store, actor)


@router.get("/{meeting_id}/participants")
def list_participants(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[ParticipantOut]:
    """Who takes part, with their role in this meeting."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        rows = session.execute(
            select(t.Participant, t.Member)
            .join(t.Member, t.Member.id == t.Participant.member_id)
            .where(t.Participant.meeting_id == meeting_id)
            .order_by(t.Member.full_name)
        ).all()
        return [ParticipantOut(member_id=m.id, full_name=m.full_name, title=m.title, role=MeetingRole(p.role)) for p, m in rows]


@router.post("/{meeting_id}/participants", status_code=201)
def add_participant(meeting_id: str, body: ParticipantIn, store: StoreDep, actor: ActorDep) -> list[ParticipantOut]:
    """Invite a member or a guest (the meeting's chair or secretary)."""
    meetings.add_participant(store, actor, meeting_id, body.member_id, body.role)
    return list_participants(meeting_id, store, actor)


@router.delete("/{meeting_id}/participants/{member_id}", status_code=204)
def remove_participant(meeting_id: str, member_id: str, store: StoreDep, actor: ActorDep) -> Response:
    """Withdraw an invitation (before the session starts)."""
    meetings.remove_participant(store, actor, meeting_id, member_id)
    return Response(status_code=204)

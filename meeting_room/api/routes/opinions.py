"""Opinions before the meeting (xin ý kiến): asked by the secretary or chair while the meeting is
scheduled; members answer through the poll's ballots; the grouped answers for those who prepare it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from meeting_room.access import get_meeting, require_overseer
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.polls import PollOut, poll_out, poll_view
from meeting_room.moments import Moment
from meeting_room.services import opinions
from meeting_room.text import LongText, Name, Title

router = APIRouter(prefix="/api/meetings/{meeting_id}/opinions", tags=["opinions"])


class OpinionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title
    agenda_item_id: str = Field(max_length=36)
    deadline: Moment = Field(description="Answers are taken until then (no later than the meeting's start)")
    document_id: str | None = Field(None, max_length=36, description="The draft document the opinions are about")
    description: LongText | None = None
    options: list[Name] = Field(default_factory=list, max_length=20, description="Optional choices; a written opinion is always possible")


class OpinionOut(BaseModel):
    member_id: str
    full_name: str
    text: str | None


class GroupOut(BaseModel):
    option_id: str | None
    label: str
    count: int
    opinions: list[OpinionOut]


class GroupedOut(BaseModel):
    poll: PollOut
    answered: int
    groups: list[GroupOut]


@router.post("", status_code=201)
def ask(meeting_id: str, body: OpinionIn, store: StoreDep, actor: ActorDep) -> PollOut:
    """Ask the members' opinions on an agenda item (and a draft) until a deadline, while the meeting is scheduled."""
    poll_id = opinions.ask(store, actor, meeting_id, opinions.OpinionRequest(**body.model_dump()))
    return poll_view(store, actor, meeting_id, poll_id)


@router.get("/{poll_id}")
def grouped(meeting_id: str, poll_id: str, store: StoreDep, actor: ActorDep) -> GroupedOut:
    """Every answer grouped by option, with names (the meeting's chair, secretary, clerks, admins)."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_overseer(session, actor, meeting, action_vi="xem ý kiến góp ý", action_en="see the opinions")
        poll = opinions.asked_poll(session, poll_id, meeting_id)
        groups = opinions.grouped(session, poll)
        out = poll_out(session, actor, meeting, poll, store.ballot_keys)
    return GroupedOut(
        poll=out,
        answered=len({o.member_id for g in groups for o in g.opinions}),
        groups=[
            GroupOut(option_id=g.option_id, label=g.label, count=len(g.opinions), opinions=[OpinionOut(**o.__dict__) for o in g.opinions])
            for g in groups
        ],
    )

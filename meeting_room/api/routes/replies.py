"""Replies to the invitation: one's own (to give and change until the meeting opens), and everyone's
with the expected quorum for the people who prepare the meeting."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from meeting_room.access import get_meeting, require_overseer
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.schemas import Out
from meeting_room.attendance import ReplyAnswer
from meeting_room.roles import MeetingRole
from meeting_room.services import replies
from meeting_room.text import LongText, Name

router = APIRouter(prefix="/api/meetings/{meeting_id}", tags=["replies"])


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: ReplyAnswer
    reason: LongText | None = Field(None, description="Needed for an absence")
    deputy_member_id: str | None = Field(None, max_length=36, description="A member of the same body who attends instead")
    deputy_name: Name | None = Field(None, description="Or a guest's full name, who attends instead")
    deputy_title: Name | None = None


class ReplyOut(Out):
    member_id: str
    full_name: str
    title: str | None
    role: MeetingRole
    answer: ReplyAnswer | None = Field(description="None: not answered yet")
    answer_label: str
    reason: str | None
    deputy_id: str | None
    deputy_name: str | None
    represents_id: str | None = Field(description="This participant attends in this person's place")
    represents_name: str | None


class MyReplyOut(BaseModel):
    reply: ReplyOut | None
    answers: dict[str, str] = Field(description="Each answer and its Vietnamese label")


class ExpectedOut(Out):
    voting: int
    attending: int
    in_room: int
    online: int
    absent: int
    deputies: int
    not_replied: int
    quorum_needed: int = Field(description="Two thirds of the voting participants (the attendance's rule)")
    quorum_expected: bool


class RepliesOut(BaseModel):
    expected: ExpectedOut
    replies: list[ReplyOut]


def _out(row: replies.ReplyRow) -> ReplyOut:
    label = row.answer.label_vi if row.answer else "Chưa trả lời"
    return ReplyOut(**{**row.__dict__, "answer_label": label})


def _answers() -> dict[str, str]:
    return {a.value: a.label_vi for a in ReplyAnswer}


@router.get("/reply")
def my_reply(meeting_id: str, store: StoreDep, actor: ActorDep) -> MyReplyOut:
    """The current person's reply to the invitation (null before they answer)."""
    with store.read() as session:
        row = replies.own_reply(session, actor, meeting_id)
    return MyReplyOut(reply=_out(row) if row else None, answers=_answers())


@router.put("/reply")
def put_reply(meeting_id: str, body: ReplyIn, store: StoreDep, actor: ActorDep) -> MyReplyOut:
    """Answer the invitation, or change the answer, until the meeting opens."""
    replies.reply_to_invitation(store, actor, meeting_id, replies.Reply(**body.model_dump()))
    return my_reply(meeting_id, store, actor)


@router.get("/replies")
def all_replies(meeting_id: str, store: StoreDep, actor: ActorDep) -> RepliesOut:
    """Every participant's reply and the quorum the replies promise (chair, secretary, clerks, admins)."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_overseer(session, actor, meeting, action_vi="xem trả lời giấy mời", action_en="see the replies to the invitation")
        rows = replies.replies(session, meeting_id)
    expected = replies.expected(rows)
    return RepliesOut(
        expected=ExpectedOut(**expected.__dict__, quorum_expected=expected.quorum_expected),
        replies=[_out(r) for r in rows],
    )

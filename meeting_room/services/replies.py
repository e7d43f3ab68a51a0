"""Replies to the invitation (trả lời giấy mời): in the room, online, absent with a reason, or a deputy.

A participant may change their reply until the meeting opens. A deputy is a member of the same body
or a named guest (made a member without a login); either joins the meeting as a guest participant,
so that the quorum's base (the voting participants) stays the same, and the person they stand in
for is shown as represented. A deputy this reply brought in leaves again when the reply changes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_view
from meeting_room.attendance import ReplyAnswer, quorum_needed
from meeting_room.db import tables as t
from meeting_room.db.tables import EventRow
from meeting_room.errors import InvalidInputError, InvalidTransitionError, NotFoundError, PermissionDeniedError
from meeting_room.lifecycle import MeetingState
from meeting_room.roles import MeetingRole, Role, counts_as_member
from meeting_room.store import Store


@dataclass(frozen=True)
class Reply:
    """What a participant answers; a deputy is ``deputy_member_id`` or ``deputy_name`` (a guest)."""

    answer: ReplyAnswer
    reason: str | None = None
    deputy_member_id: str | None = None
    deputy_name: str | None = None
    deputy_title: str | None = None


def _check(reply: Reply) -> None:
    if reply.answer is ReplyAnswer.ABSENT and not (reply.reason or "").strip():
        raise InvalidInputError("Vắng mặt cần ghi rõ lý do", "An absence needs a reason", field="reason")
    wants_deputy = reply.answer is ReplyAnswer.DEPUTY
    named = (reply.deputy_member_id is not None) + bool((reply.deputy_name or "").strip())
    if wants_deputy and named != 1:
        raise InvalidInputError(
            "Cử người dự thay: chọn một thành viên cùng cơ quan hoặc ghi họ tên khách mời (một trong hai)",
            "Sending a deputy: pick a member of the same body or give a guest's full name (one of the two)",
            field="deputy_member_id",
        )
    if not wants_deputy and named:
        raise InvalidInputError(
            "Chỉ khi cử người dự thay mới ghi người dự thay",
            "A deputy is given only with the answer 'deputy'",
            field="answer",
            received=reply.answer.value,
        )


def _require_scheduled(meeting: t.Meeting) -> None:
    state = MeetingState(meeting.state)
    if state is not MeetingState.SCHEDULED:
        raise InvalidTransitionError(
            f"Cuộc họp “{meeting.title}” đã {state.label_vi.lower()}: không thể trả lời hay đổi trả lời giấy mời nữa",
            f"Meeting “{meeting.title}” is {state}: the invitation can no longer be answered or the answer changed",
            meeting_id=meeting.id,
            state=state.value,
            allowed=[MeetingState.SCHEDULED.value],
        )


# Deputies one participant may bring in for one meeting, across changed replies: each named guest
# becomes a member record (the log keeps it), so replies cannot be a way to fill the member list.
MAX_DEPUTIES = 10


def _require_deputies_left(session: Session, meeting_id: str, member_id: str) -> None:
    payloads = session.scalars(
        select(EventRow.payload).where(
            EventRow.meeting_id == meeting_id, EventRow.type == ev.InvitationReplied.type, EventRow.actor_id == member_id
        )
    )
    sent = {json.loads(payload).get("deputy_id") for payload in payloads} - {None}
    if len(sent) >= MAX_DEPUTIES:
        raise InvalidInputError(
            f"Bạn đã cử {len(sent)} người dự thay cho cuộc họp này (tối đa {MAX_DEPUTIES}); hãy liên hệ thư ký cuộc họp",
            f"You have sent {len(sent)} deputies for this meeting (at most {MAX_DEPUTIES}); contact the meeting's secretary",
            field="answer",
            limit=MAX_DEPUTIES,
        )


def _deputy(session: Session, meeting: t.Meeting, member_id: str, reply: Reply) -> tuple[str, list[ev.EventPayload]]:
    """The deputy's member id and the events that make them a guest participant."""
    _require_deputies_left(session, meeting.id, member_id)
    if reply.deputy_member_id is None:
        guest = ev.MemberCreated(
            member_id=str(uuid.uuid4()), body_id=None, full_name=reply.deputy_name or "", title=reply.deputy_title, roles=[Role.GUEST]
        )
        added = ev.ParticipantAdded(meeting_id=meeting.id, member_id=guest.member_id, role=MeetingRole.GUEST)
        return guest.member_id, [guest, added]
    deputy = session.get(t.Member, reply.deputy_member_id)
    if deputy is None or not deputy.active or deputy.body_id != meeting.body_id:
        raise InvalidInputError(
            "Người dự thay phải là thành viên đang hoạt động của cùng cơ quan, hoặc một khách mời ghi rõ họ tên",
            "The deputy must be an active member of the same body, or a guest named in full",
            field="deputy_member_id",
            received=reply.deputy_member_id,
        )
    if deputy.id == member_id or session.get(t.Participant, (meeting.id, deputy.id)) is not None:
        raise InvalidInputError(
            f"{deputy.full_name} đã có trong danh sách dự họp: hãy chọn người khác",
            f"{deputy.full_name} is already a participant: pick someone else",
            field="deputy_member_id",
            received=deputy.id,
        )
    return deputy.id, [ev.ParticipantAdded(meeting_id=meeting.id, member_id=deputy.id, role=MeetingRole.GUEST)]


def reply_to_invitation(store: Store, actor: Actor, meeting_id: str, reply: Reply) -> None:
    """The actor's own reply (or a changed one) while the meeting is scheduled."""
    _check(reply)
    member_id = actor.member_id

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        participant = session.get(t.Participant, (meeting_id, member_id))
        if participant is None or is_deputy(session, meeting_id, member_id):
            raise PermissionDeniedError(
                "Chỉ người được mời mới trả lời giấy mời của mình",
                "Only an invited participant answers their own invitation",
                meeting_id=meeting_id,
            )
        _require_scheduled(meeting)
        if reply.answer is ReplyAnswer.DEPUTY and participant.role in (MeetingRole.CHAIR.value, MeetingRole.GUEST.value):
            raise InvalidInputError(
                "Chủ tọa và khách mời không cử người dự thay",
                "The chair and guests do not send a deputy",
                field="answer",
                role=participant.role,
            )
        events: list[ev.EventPayload] = []
        previous = session.get(t.InvitationReply, (meeting_id, member_id))
        had = previous.deputy_id if previous is not None else None
        same = had is not None and reply.answer is ReplyAnswer.DEPUTY and reply.deputy_member_id == had
        if had is not None and not same:  # the deputy they had sent stands down
            events.append(ev.ParticipantRemoved(meeting_id=meeting_id, member_id=had))
        deputy_id = had if same else None
        if reply.answer is ReplyAnswer.DEPUTY and not same:
            deputy_id, added = _deputy(session, meeting, member_id, reply)
            events += added
        events.append(
            ev.InvitationReplied(
                meeting_id=meeting_id,
                member_id=member_id,
                answer=reply.answer,
                reason=(reply.reason or "").strip() or None,
                deputy_id=deputy_id,
            )
        )
        return events

    store.append_all(decide, actor_id=member_id)


def is_deputy(session: Session, meeting_id: str, member_id: str) -> bool:
    """Whether the member attends in someone's place (and so has no invitation of their own)."""
    query = select(t.InvitationReply.member_id).where(t.InvitationReply.meeting_id == meeting_id, t.InvitationReply.deputy_id == member_id)
    return session.scalar(query.limit(1)) is not None


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyRow:
    member_id: str
    full_name: str
    title: str | None
    role: MeetingRole
    answer: ReplyAnswer | None  # None: not answered yet
    reason: str | None
    deputy_id: str | None
    deputy_name: str | None
    represents_id: str | None  # this participant is someone's deputy
    represents_name: str | None
    counted: bool = True  # counts in the meeting's membership (``roles.counts_as_member``)


@dataclass(frozen=True)
class Expected:
    """What the replies promise for the quorum (the same rule as the attendance's)."""

    voting: int  # voting participants (chair, secretary, members)
    attending: int  # of them, replied in the room or online
    in_room: int
    online: int
    absent: int
    deputies: int
    not_replied: int
    quorum_needed: int

    @property
    def quorum_expected(self) -> bool:
        return self.voting > 0 and self.attending >= self.quorum_needed


def replies(session: Session, meeting_id: str) -> list[ReplyRow]:
    """Every participant with their reply, and who stands in for whom."""
    rows = session.execute(
        select(t.Participant, t.Member, t.InvitationReply)
        .join(t.Member, t.Member.id == t.Participant.member_id)
        .outerjoin(
            t.InvitationReply,
            (t.InvitationReply.meeting_id == t.Participant.meeting_id) & (t.InvitationReply.member_id == t.Participant.member_id),
        )
        .where(t.Participant.meeting_id == meeting_id)
        .order_by(t.Member.full_name)
    ).all()
    names = {m.id: m.full_name for _, m, _ in rows}
    represents = {r.deputy_id: r.member_id for _, _, r in rows if r is not None and r.deputy_id is not None}
    out = []
    for p, m, r in rows:
        deputy_id = r.deputy_id if r is not None else None
        for_id = represents.get(m.id)
        out.append(
            ReplyRow(
                member_id=m.id,
                full_name=m.full_name,
                title=m.title,
                role=MeetingRole(p.role),
                answer=ReplyAnswer(r.answer) if r is not None else None,
                reason=r.reason if r is not None else None,
                deputy_id=deputy_id,
                deputy_name=names.get(deputy_id) if deputy_id else None,
                represents_id=for_id,
                represents_name=names.get(for_id) if for_id else None,
                counted=counts_as_member(p.role, m.roles or []),
            )
        )
    return out


def expected(rows: list[ReplyRow]) -> Expected:
    voting = [r for r in rows if r.counted]
    count = {a: sum(r.answer is a for r in voting) for a in ReplyAnswer}
    attending = count[ReplyAnswer.IN_ROOM] + count[ReplyAnswer.ONLINE]
    return Expected(
        voting=len(voting),
        attending=attending,
        in_room=count[ReplyAnswer.IN_ROOM],
        online=count[ReplyAnswer.ONLINE],
        absent=count[ReplyAnswer.ABSENT],
        deputies=count[ReplyAnswer.DEPUTY],
        not_replied=sum(r.answer is None for r in voting),
        quorum_needed=quorum_needed(len(voting)),
    )


def own_reply(session: Session, actor: Actor, meeting_id: str) -> ReplyRow | None:
    """The actor's own reply (None before they answer); 404 unless they see the meeting."""
    meeting = get_meeting(session, meeting_id)
    require_view(session, actor, meeting)
    if session.get(t.Participant, (meeting_id, actor.member_id)) is None:
        raise NotFoundError("Bạn không có trong danh sách dự họp", "You are not a participant", meeting_id=meeting_id)
    return next((r for r in replies(session, meeting_id) if r.member_id == actor.member_id and r.answer is not None), None)

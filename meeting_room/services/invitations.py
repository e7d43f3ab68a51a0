"""Invitation links: the chair or secretary sends a participant a link into one meeting. Opening
it logs them in for that meeting only (no password, no other meeting, no other page's data), until
the link expires or is revoked. A link opens one session (one browser). Only the token's SHA-256 is stored.

A link without a member is the hall display's (``create_display``): the projector or TV in the room
shows the meeting's public view with it, read-only, as often as it is opened, until it expires or is
revoked; the link is the display's credential (``auth.resolve``), there is no session or account."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import auth
from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_own_login, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from meeting_room.lifecycle import EDITABLE, MeetingState
from meeting_room.store import Decided, Store

GONE = (
    "Liên kết mời không còn hiệu lực (đã hết hạn, bị thu hồi hoặc cuộc họp đã kết thúc). Hãy xin thư ký một liên kết mới.",
    "This invitation link is no longer valid (expired, revoked, or the meeting has ended). Ask the secretary for a new one.",
)


@dataclass(frozen=True)
class NewInvitation:
    id: str
    token: str
    expires_at: datetime
    replaced: int = 0  # the member's links not yet opened, which this one replaced


def create(store: Store, actor: Actor, meeting_id: str, member_id: str, hours: int) -> NewInvitation:
    """A link for one participant; their links not yet opened no longer open (an opened one keeps its
    session: that browser is the member's)."""
    return _create(store, actor, meeting_id, member_id, hours)


def create_display(store: Store, actor: Actor, meeting_id: str, hours: int) -> NewInvitation:
    """A link for the hall's display (the chair or secretary creates it, as they invite people)."""
    return _create(store, actor, meeting_id, None, hours)


def _create(store: Store, actor: Actor, meeting_id: str, member_id: str | None, hours: int) -> NewInvitation:
    if not 1 <= hours <= 24 * 30:
        raise InvalidInputError(
            f"Thời hạn liên kết phải từ 1 đến 720 giờ (nhận {hours})", f"A link lasts 1 to 720 hours (got {hours})", field="hours"
        )
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    invitation_id = str(uuid.uuid4())

    require_own_login(actor, action_vi="tạo liên kết mời", action_en="make invitation links")  # a link never begets links

    def decide(session: Session) -> Decided[int]:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="gửi liên kết mời họp", action_en="send invitation links")
        if (state := MeetingState(meeting.state)) not in EDITABLE:
            raise ConflictError(
                f"Cuộc họp đang ở trạng thái “{state.label_vi}”: không mời thêm được",
                f"The meeting is {state.value}: nobody can be invited",
                state=meeting.state,
            )
        if member_id is not None and session.get(t.Participant, (meeting_id, member_id)) is None:
            raise NotFoundError(
                f"{member_id} không có trong danh sách dự họp; thêm họ vào cuộc họp trước",
                f"{member_id} is not a participant; add them to the meeting first", member_id=member_id,
            )  # fmt: skip
        replaces = _unopened(session, meeting, member_id)
        created = ev.InvitationCreated(
            meeting_id=meeting_id, invitation_id=invitation_id, member_id=member_id, token_hash=auth.token_hash(token), expires_at=expires,
            replaces=replaces,
        )  # fmt: skip
        return Decided(created, len(replaces))

    replaced = store.decide(decide, actor_id=actor.member_id)[1]
    return NewInvitation(invitation_id, token, expires, replaced)


def _unopened(session: Session, meeting: t.Meeting, member_id: str | None) -> list[str]:
    """A member's links still valid and never opened, which a new link replaces. Not one already opened
    (whoever opened it may be the member: the console says so, and the staff revoke it if not), nor a
    display's (each screen in the hall may hold one)."""
    if member_id is None:
        return []
    rows = session.scalars(
        select(t.Invitation).where(
            t.Invitation.meeting_id == meeting.id, t.Invitation.member_id == member_id, t.Invitation.used_at.is_(None)
        )
    )
    return [inv.id for inv in rows if still_valid(inv, meeting)]


def still_valid(inv: t.Invitation, meeting: t.Meeting) -> bool:
    """Not revoked or expired, and its meeting not over: the link opens, or its session goes on."""
    return inv.revoked_at is None and inv.expires_at > datetime.now(UTC) and MeetingState(meeting.state) in EDITABLE


def revoke(store: Store, actor: Actor, meeting_id: str, invitation_id: str) -> str | None:
    """Revoke a link (its sessions end, a display's view too); returns whose it was (None: a display's)."""

    def decide(session: Session) -> Decided[str | None]:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="thu hồi liên kết mời", action_en="revoke invitation links")
        inv = session.get(t.Invitation, invitation_id)
        if inv is None or inv.meeting_id != meeting_id:
            raise NotFoundError("Không có liên kết mời này", "No such invitation", invitation_id=invitation_id)
        if inv.revoked_at is not None:
            raise ConflictError("Liên kết đã bị thu hồi", "The invitation is already revoked", invitation_id=invitation_id)
        return Decided(ev.InvitationRevoked(meeting_id=meeting_id, invitation_id=invitation_id), inv.member_id)

    return store.decide(decide, actor_id=actor.member_id)[1]


def listed(session: Session, meeting_id: str, displays: bool = False) -> list[t.Invitation]:
    """The meeting's links for participants, or (``displays``) for the hall's display."""
    kind = t.Invitation.member_id.is_(None) if displays else t.Invitation.member_id.is_not(None)
    where = (t.Invitation.meeting_id == meeting_id) & kind
    return list(session.scalars(select(t.Invitation).where(where).order_by(t.Invitation.created_at)))


USED = (
    "Liên kết mời này đã được mở trên một trình duyệt khác và chỉ dùng được một lần. "
    "Chủ tọa hoặc thư ký có thể gửi cho bạn một liên kết mới.",
    "This invitation link was already used in another browser and works only once. The chair or secretary can send you a new one.",
)


@dataclass(frozen=True)
class Opening:
    """Where a link leads, said on its page before it is used."""

    meeting_id: str
    title: str
    starts_at: datetime
    full_name: str
    opened_here: bool  # this browser is theirs already (the link opened here, or their own login): it simply continues
    logged_in_as: str | None = None  # someone else's session in this browser, which opening the link replaces


def look(store: Store, token: str, current: str | None = None) -> Opening:
    """The link's meeting and person, without using it: a chat app's preview or a mail scanner that
    fetches the link must not spend its one opening. Refused as ``redeem`` would refuse it."""
    with store.read() as session:
        inv, meeting, member = _valid(session, token)
        opening = Opening(meeting.id, meeting.title, meeting.starts_at, member.full_name, opened_here=False)
        used = inv.used_at is not None
    actor = _actor_of(store, current)
    if _continues(actor, member.id, meeting.id):
        return dataclasses.replace(opening, opened_here=True)
    if used:
        raise ConflictError(*USED, invitation_id=inv.id)
    return dataclasses.replace(opening, logged_in_as=actor.full_name if actor is not None else None)


def _valid(session: Session, token: str) -> tuple[t.Invitation, t.Meeting, t.Member]:
    inv = session.scalar(select(t.Invitation).where(t.Invitation.token_hash == auth.token_hash(token)))
    meeting = session.get(t.Meeting, inv.meeting_id) if inv else None
    member = session.get(t.Member, inv.member_id) if inv and inv.member_id else None  # a display's link opens no session
    if (
        inv is None or meeting is None or member is None or not member.active or inv.revoked_at is not None
        or inv.expires_at <= datetime.now(UTC)
        # taken off the participants since: the page would still name the meeting to whoever holds the link
        or session.get(t.Participant, (meeting.id, member.id)) is None
    ):  # fmt: skip
        raise NotFoundError(*GONE)
    # not "ask for a new link": there is no meeting to join (a walk-through); said only to a link not yet
    # opened, as its page would have named the meeting (a used one's copy learns nothing: an attacker's probe)
    if meeting.state == MeetingState.CANCELLED and inv.used_at is None:
        why = (meeting.cancel_reason or "").rstrip(".")
        raise NotFoundError(
            f"Cuộc họp “{meeting.title}” đã bị hủy, không họp{f': {why}' if why else ''}.",
            f"The meeting “{meeting.title}” was cancelled and will not be held{f' ({why})' if why else ''}.",
        )
    if MeetingState(meeting.state) not in EDITABLE:
        raise NotFoundError(*GONE)
    return inv, meeting, member


def _actor_of(store: Store, current: str | None) -> Actor | None:
    """Who the browser's session is, if it is a live one."""
    if current is None:
        return None
    with contextlib.suppress(AuthenticationError):
        return auth.resolve(store, current)
    return None


def _continues(actor: Actor | None, member_id: str, meeting_id: str) -> bool:
    """Whether the session is this member's already, into this meeting: the one their link opened, or
    their own login (which can vote: a link-only session in its place could not, and the link would
    be spent for nothing)."""
    return actor is not None and actor.member_id == member_id and actor.only_meeting in (None, meeting_id)


def redeem(store: Store, token: str, session_hours: int, current: str | None = None) -> tuple[auth.Login | None, str]:
    """Open the link: a session for this meeting only, ending with the link at the latest. A link
    opens one session: the browser that opened it, or where the member is logged in already
    (``current``, its session token), simply continues (no new session: ``None``; the link stays
    unused in the second case); any other opening is refused."""
    now = datetime.now(UTC)
    with store.read() as session:
        inv, _, member = _valid(session, token)
        meeting_id, invitation_id = inv.meeting_id, inv.id
    if _continues(_actor_of(store, current), member.id, meeting_id):
        return None, meeting_id

    expires = min(inv.expires_at, now + timedelta(hours=session_hours))

    def decide(session: Session) -> Decided[auth.Login]:
        # read again where appends are one at a time, and the session written in the same transaction: a
        # revocation or a deactivation that came meanwhile refuses it, one after it ends it (its own
        # transaction deletes the link's sessions); written apart, a revocation could slip in between
        again, person = session.get_one(t.Invitation, invitation_id), session.get(t.Member, member.id)
        if again.revoked_at is not None or person is None or not person.active:
            raise NotFoundError(*GONE)
        if again.used_at is not None:
            raise ConflictError(*USED, invitation_id=invitation_id)
        login = auth.add_session(session, person, expires, meeting_id, invitation_id=invitation_id)
        return Decided(ev.InvitationUsed(meeting_id=meeting_id, invitation_id=invitation_id), login)

    return store.decide(decide, actor_id=member.id)[1], meeting_id

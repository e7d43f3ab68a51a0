"""Who may do what: standing roles, and a person's role in one meeting."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, distinct, func, select
from sqlalchemy.orm import Session

from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError, PermissionDeniedError
from meeting_room.lifecycle import MeetingState
from meeting_room.roles import MINUTES_SIGNERS, MeetingRole, Role
from voting import PollState


@dataclass(frozen=True)
class Actor:
    """The authenticated person making a request."""

    member_id: str
    full_name: str
    roles: frozenset[Role]
    only_meeting: str | None = None  # a session opened from an invitation link: this meeting only
    display: bool = False  # a hall display's link: no person, only ``only_meeting``'s public view
    must_change_password: bool = False  # logged in with a temporary password: nothing else until it is changed

    def has(self, *roles: Role) -> bool:
        """Admins may do everything; otherwise one of ``roles`` is needed."""
        return Role.ADMIN in self.roles or any(r in self.roles for r in roles)


def require_roles(actor: Actor, *roles: Role, action_vi: str, action_en: str) -> None:
    if not actor.has(*roles):
        needed = ", ".join(r.value for r in (Role.ADMIN, *roles))
        needed_vi = ", ".join(r.label_vi for r in (Role.ADMIN, *roles))
        raise PermissionDeniedError(
            f"Bạn không có quyền {action_vi}. Cần một trong các vai trò: {needed_vi}",
            f"You may not {action_en}. One of these roles is needed: {needed}",
            needed=[Role.ADMIN.value, *(r.value for r in roles)],
        )


def require_own_login(actor: Actor, *, action_vi: str, action_en: str) -> None:
    """What only the person may know or say in secret (a secret ballot, their private notes) needs a
    session they opened with their own password. An invitation link is a bearer token that passed
    through the hands of whoever made and sent it (the chair, the secretary, an administrator): it
    lets its holder follow the meeting and speak, not vote or read notes in a member's name."""
    if actor.only_meeting is not None:
        raise PermissionDeniedError(
            f"Không thể {action_vi} từ liên kết mời: hãy đăng nhập bằng tài khoản và mật khẩu của chính bạn",
            f"You cannot {action_en} from an invitation link: log in with your own username and password",
            needs="own_login",
        )


OFFICERS = frozenset({MeetingRole.CHAIR, MeetingRole.SECRETARY})
RECORD_KEEPERS = (Role.CLERK,)  # with admins: they keep every meeting's record


def get_meeting(session: Session, meeting_id: str) -> t.Meeting:
    meeting = session.get(t.Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(f"Không có cuộc họp {meeting_id}", f"No meeting {meeting_id}", meeting_id=meeting_id)
    return meeting


def meeting_role(session: Session, actor: Actor, meeting: t.Meeting) -> MeetingRole | None:
    if meeting.chair_id == actor.member_id or meeting.secretary_id == actor.member_id:
        # a session opened from an invitation link takes part, it does not run the meeting: whoever holds the
        # link (the secretary made the chair's, an attacker's probe) would act in the log as the chair
        if actor.only_meeting is not None:
            return MeetingRole.MEMBER
        return MeetingRole.CHAIR if meeting.chair_id == actor.member_id else MeetingRole.SECRETARY
    # a get: the permissions of one page ask it several times, and the row loaded once is then in the session
    row = session.get(t.Participant, (meeting.id, actor.member_id))
    return MeetingRole(row.role) if row else None


def holds(session: Session, actor: Actor, meeting: t.Meeting, allowed: Set[MeetingRole], also: tuple[Role, ...] = ()) -> bool:
    """Whether the actor holds one of ``allowed`` in this meeting (or is admin, or holds a role in ``also``)."""
    return actor.has(*also) or meeting_role(session, actor, meeting) in allowed


BODY_STAFF = (Role.CHAIR, Role.SECRETARY)  # standing roles that prepare the meetings of their own body


def _own_body(actor: Actor) -> Select[str | None]:
    return select(t.Member.body_id).where(t.Member.id == actor.member_id)


def body_staff(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """A standing chair or secretary of the meeting's body (its staff): they see and prepare every
    meeting of their body, whoever was appointed to it."""
    return staff_of_body(session, actor, meeting.body_id)


def staff_of_body(session: Session, actor: Actor, body_id: str) -> bool:
    """A standing chair or secretary of the body (``body_staff`` of each of its meetings)."""
    if not any(role in actor.roles for role in BODY_STAFF) or actor.only_meeting is not None:
        return False
    member = session.get(t.Member, actor.member_id)
    return member is not None and member.body_id == body_id


def require_body_reports(session: Session, actor: Actor, body_id: str, *, action_vi: str, action_en: str) -> None:
    """A body's figures across its meetings (speaking statistics): the record keepers (clerks,
    admins) and the body's staff. An unknown body is a 404."""
    if session.get(t.Body, body_id) is None:
        raise NotFoundError(f"Không có cơ quan {body_id}", f"No body {body_id}", body_id=body_id)
    if not (actor.has(*RECORD_KEEPERS) or staff_of_body(session, actor, body_id)):
        raise PermissionDeniedError(
            f"Bạn không có quyền {action_vi}: chỉ văn thư, quản trị hệ thống hoặc chủ tọa, thư ký của cơ quan",
            f"You may not {action_en}: only clerks, administrators or the body's chairs and secretaries",
            body_id=body_id,
        )


def invitation_sent(meeting: t.Meeting) -> bool:
    """A scheduled meeting is a draft for those who prepare it until its invitation goes out."""
    return meeting.published_at is not None or meeting.state != MeetingState.SCHEDULED.value


def sees_meeting(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """Admins and clerks see every meeting; the body's staff its meetings; its chair and secretary
    theirs; other participants theirs once the invitation went out (a draft agenda, its documents
    and its list of invitees stay with those who prepare it; ``visible_meetings`` is this rule as a query)."""
    if actor.has(Role.CLERK) or body_staff(session, actor, meeting):
        return True
    role = meeting_role(session, actor, meeting)
    return role in OFFICERS or (role is not None and invitation_sent(meeting))


def _officer_or_staff(actor: Actor) -> ColumnElement[bool]:
    runs_it = (t.Meeting.chair_id == actor.member_id) | (t.Meeting.secretary_id == actor.member_id)
    if any(role in actor.roles for role in BODY_STAFF) and actor.only_meeting is None:
        runs_it = runs_it | t.Meeting.body_id.in_(_own_body(actor))
    return runs_it


def visible_meetings(actor: Actor) -> ColumnElement[bool] | None:
    """``sees_meeting`` as a condition on ``meetings`` rows, for lists and search (None: every meeting)."""
    if actor.has(Role.CLERK):
        return None
    mine = select(t.Participant.meeting_id).where(t.Participant.member_id == actor.member_id)
    sent = t.Meeting.published_at.is_not(None) | (t.Meeting.state != MeetingState.SCHEDULED.value)
    return (t.Meeting.id.in_(mine) & sent) | _officer_or_staff(actor)


def visible_meeting_ids(session: Session, actor: Actor) -> frozenset[str] | None:
    """The ids of the meetings the actor sees (None: every meeting)."""
    where = visible_meetings(actor)
    return None if where is None else frozenset(session.scalars(select(t.Meeting.id).where(where)))


def readable_minutes_ids(session: Session, actor: Actor) -> frozenset[str] | None:
    """The meetings whose minutes the actor may read now, in search too (None: every meeting's): the
    final ones (signed by every signer) and, as drafts, those the actor ``oversees``."""
    if actor.has(*RECORD_KEEPERS):
        return None
    signer = t.MinutesSignature
    final = select(signer.meeting_id).group_by(signer.meeting_id).having(func.count(distinct(signer.role)) >= len(MINUTES_SIGNERS))
    officer = (t.Meeting.chair_id == actor.member_id) | (t.Meeting.secretary_id == actor.member_id)
    return frozenset(session.scalars(select(t.Meeting.id).where(t.Meeting.id.in_(final) | officer)))


def require_view(session: Session, actor: Actor, meeting: t.Meeting) -> None:
    """Raise unless the actor sees the meeting (``sees_meeting``).

    The error is a 404, not a 403, so that outsiders cannot probe which meetings exist.
    """
    if sees_meeting(session, actor, meeting):
        return
    raise NotFoundError(f"Không có cuộc họp {meeting.id}", f"No meeting {meeting.id}", meeting_id=meeting.id)


def sees_hall(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """The hall's view of a meeting (what its big screen shows to everyone in the room): its own
    display link, or anyone who sees the meeting."""
    return actor.only_meeting == meeting.id if actor.display else sees_meeting(session, actor, meeting)


def require_hall(session: Session, actor: Actor, meeting: t.Meeting) -> None:
    """Raise (404, as ``require_view``) unless the actor ``sees_hall``."""
    if not sees_hall(session, actor, meeting):
        raise NotFoundError(f"Không có cuộc họp {meeting.id}", f"No meeting {meeting.id}", meeting_id=meeting.id)


def require_meeting_role(
    session: Session,
    actor: Actor,
    meeting: t.Meeting,
    allowed: Set[MeetingRole],
    *,
    action_vi: str,
    action_en: str,
    also: tuple[Role, ...] = (),
) -> None:
    """The actor must hold one of ``allowed`` in this meeting (or be admin, or hold a role in ``also``)."""
    require_view(session, actor, meeting)
    if holds(session, actor, meeting, allowed, also):
        return
    names = ", ".join(sorted(r.value for r in allowed))
    raise PermissionDeniedError(
        f"Bạn không có quyền {action_vi} trong cuộc họp này",
        f"You may not {action_en} in this meeting (needs: {names})",
        meeting_id=meeting.id,
        needed=sorted(r.value for r in allowed),
    )


def runs(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """The meeting's chair or secretary, or an admin: they run the meeting (``require_staff``)."""
    return holds(session, actor, meeting, OFFICERS)


def prepares(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """Who prepares the meeting and sends its invitation: its chair or secretary, the body's staff, admins."""
    return runs(session, actor, meeting) or body_staff(session, actor, meeting)


def require_preparer(session: Session, actor: Actor, meeting: t.Meeting, *, action_vi: str, action_en: str) -> None:
    """Raise unless the actor ``prepares`` the meeting."""
    require_view(session, actor, meeting)
    if not prepares(session, actor, meeting):
        raise PermissionDeniedError(
            f"Bạn không có quyền {action_vi}: chỉ chủ tọa, thư ký cuộc họp hoặc cán bộ của cơ quan",
            f"You may not {action_en}: only the meeting's chair or secretary, or its body's staff",
            meeting_id=meeting.id,
        )


def require_staff(session: Session, actor: Actor, meeting: t.Meeting, *, action_vi: str, action_en: str) -> None:
    """Raise unless the actor ``runs`` the meeting."""
    require_meeting_role(session, actor, meeting, OFFICERS, action_vi=action_vi, action_en=action_en)


def oversees(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """The meeting's officers and record keepers (its chair and secretary, admins, clerks): they see a
    named vote's live counts and a vote's result as soon as it closes (everyone else when it is
    published), edit the minutes and seal the archive."""
    return holds(session, actor, meeting, OFFICERS, RECORD_KEEPERS)


def require_overseer(session: Session, actor: Actor, meeting: t.Meeting, *, action_vi: str, action_en: str) -> None:
    """Raise unless the actor ``oversees`` the meeting."""
    require_meeting_role(session, actor, meeting, OFFICERS, action_vi=action_vi, action_en=action_en, also=RECORD_KEEPERS)


def require_minutes_reader(
    session: Session,
    actor: Actor,
    meeting: t.Meeting,
    *,
    signed: bool,
    action_vi: str = "xem biên bản trước khi được ký xong",
    action_en: str = "read the minutes before they are signed",
) -> None:
    """The minutes (and the conclusion notice, with its own ``action_*`` words): once signed by everyone,
    whoever sees the meeting; until then a draft that only those who ``oversee`` it read (its chair and
    secretary, clerks, admins)."""
    require_view(session, actor, meeting)
    if not signed:
        require_overseer(session, actor, meeting, action_vi=action_vi, action_en=action_en)


def sees_result(session: Session, actor: Actor, meeting: t.Meeting, poll_state: PollState) -> bool:
    """Whether the actor may see a poll's result and counted ballots in this state: once published,
    everyone who sees the meeting; a closed one, its overseers, and everyone once the minutes are
    signed by every signer (they state each vote's result: the signed record publishes it)."""
    if poll_state is PollState.PUBLISHED:
        return True
    return poll_state is PollState.CLOSED and (oversees(session, actor, meeting) or minutes_final(session, meeting.id))


def minutes_final(session: Session, meeting_id: str) -> bool:
    """The minutes are signed by every signer: the meeting's record, read by everyone who sees it."""
    signer = t.MinutesSignature
    signed = session.scalar(select(func.count(distinct(signer.role))).where(signer.meeting_id == meeting_id))
    return (signed or 0) >= len(MINUTES_SIGNERS)


def require_signature_image_owner(actor: Actor, kind: str, owner_id: str, *, action_vi: str, action_en: str) -> None:
    """A member's signature image: that member or an administrator; a body's seal: an administrator.
    (Like the certificates they stand for, they are the signer's own: nobody else sees them.)"""
    if actor.display or actor.only_meeting is not None or not (actor.has() or (kind == "signature" and actor.member_id == owner_id)):
        raise PermissionDeniedError(f"Bạn không có quyền {action_vi}", f"You may not {action_en}", kind=kind, owner_id=owner_id)


@dataclass(frozen=True)
class MeetingPermissions:
    """What the actor may do in one meeting, sent to the pages so that they never re-derive a rule.
    The server still checks every request; these only decide what a page offers."""

    run_meeting: bool  # the console: agenda, attendance marks, floor, polls, live captions, recordings
    prepare: bool  # the editor before the meeting, and sending its invitation (publishing)
    chair: bool  # open, close and publish polls
    see_live_tally: bool  # a named vote's live counts, and a result as soon as the vote closes
    edit_minutes: bool  # by role; the minutes' own ``editable`` adds their state
    sign_minutes: bool  # by role; the minutes' ``can_sign`` says whose turn it is
    teller: bool  # holds one of the two keys of the meeting's secret ballot boxes


def permissions(session: Session, actor: Actor, meeting: t.Meeting) -> MeetingPermissions:
    role = meeting_role(session, actor, meeting)
    return MeetingPermissions(
        run_meeting=runs(session, actor, meeting),
        prepare=prepares(session, actor, meeting),
        chair=holds(session, actor, meeting, {MeetingRole.CHAIR}),
        see_live_tally=oversees(session, actor, meeting),
        edit_minutes=oversees(session, actor, meeting),
        sign_minutes=role in OFFICERS,  # the signatures are personal: an admin does not sign for them
        teller=role in OFFICERS,
    )


@dataclass(frozen=True)
class StandingPermissions:
    """What the actor may do across meetings (the pages' navigation)."""

    administer: bool  # the administration page
    browse_archive: bool  # the archive and search page in the navigation (search shows only what one sees)
    hold_teller_key: bool  # chairs and secretaries keep a teller key for secret ballots
    schedule_meetings: bool  # create a meeting (the editor's "new meeting")


def standing_permissions(actor: Actor) -> StandingPermissions:
    officer = Role.CHAIR in actor.roles or Role.SECRETARY in actor.roles
    return StandingPermissions(
        administer=actor.has(),
        browse_archive=actor.has(*RECORD_KEEPERS) or officer,
        hold_teller_key=officer and actor.only_meeting is None,
        schedule_meetings=actor.has(*BODY_STAFF) and actor.only_meeting is None,
    )

"""Who may do what: standing roles, and a person's role in one meeting."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError, PermissionDeniedError
from meeting_room.roles import MeetingRole, Role
from voting import PollState


@dataclass(frozen=True)
class Actor:
    """The authenticated person making a request."""

    member_id: str
    full_name: str
    roles: frozenset[Role]
    only_meeting: str | None = None  # a session opened from an invitation link: this meeting only

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


def get_meeting(session: Session, meeting_id: str) -> t.Meeting:
    meeting = session.get(t.Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(f"Không có cuộc họp {meeting_id}", f"No meeting {meeting_id}", meeting_id=meeting_id)
    return meeting


def meeting_role(session: Session, actor: Actor, meeting: t.Meeting) -> MeetingRole | None:
    if meeting.chair_id == actor.member_id:
        return MeetingRole.CHAIR
    if meeting.secretary_id == actor.member_id:
        return MeetingRole.SECRETARY
    row = session.get(t.Participant, (meeting.id, actor.member_id))
    return MeetingRole(row.role) if row else None


def require_view(session: Session, actor: Actor, meeting: t.Meeting) -> None:
    """Admins and clerks see every meeting; others only those they take part in.

    The error is a 404, not a 403, so that outsiders cannot probe which meetings exist.
    """
    if actor.has(Role.CLERK) or meeting_role(session, actor, meeting) is not None:
        return
    raise NotFoundError(f"Không có cuộc họp {meeting.id}", f"No meeting {meeting.id}", meeting_id=meeting.id)


def require_meeting_role(
    session: Session,
    actor: Actor,
    meeting: t.Meeting,
    allowed: set[MeetingRole],
    *,
    action_vi: str,
    action_en: str,
    also: tuple[Role, ...] = (),
) -> None:
    """The actor must hold one of ``allowed`` in this meeting (or be admin, or hold a role in ``also``)."""
    require_view(session, actor, meeting)
    if actor.has(*also) or meeting_role(session, actor, meeting) in allowed:
        return
    names = ", ".join(sorted(r.value for r in allowed))
    raise PermissionDeniedError(
        f"Bạn không có quyền {action_vi} trong cuộc họp này",
        f"You may not {action_en} in this meeting (needs: {names})",
        meeting_id=meeting.id,
        needed=sorted(r.value for r in allowed),
    )


def require_staff(session: Session, actor: Actor, meeting: t.Meeting, *, action_vi: str, action_en: str) -> None:
    """The meeting's chair or secretary, or an admin."""
    require_meeting_role(session, actor, meeting, {MeetingRole.CHAIR, MeetingRole.SECRETARY}, action_vi=action_vi, action_en=action_en)


OFFICERS = frozenset({MeetingRole.CHAIR, MeetingRole.SECRETARY})


def oversees(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """The meeting's officers and record keepers (its chair and secretary, admins, clerks): they see a
    named vote's live counts and a vote's result as soon as it closes; everyone else when it is published."""
    return actor.has(Role.CLERK) or meeting_role(session, actor, meeting) in OFFICERS


def sees_result(session: Session, actor: Actor, meeting: t.Meeting, poll_state: PollState) -> bool:
    """Whether the actor may see a poll's result and counted ballots in this state."""
    return poll_state is PollState.PUBLISHED or (poll_state is PollState.CLOSED and oversees(session, actor, meeting))

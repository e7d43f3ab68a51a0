"""Who sees which members, and how much of each: the one rule for the member directory.

Officers (chair, secretary, clerk) and the administrator prepare meetings for every body: they see
every member. A member who is no officer sees the members of their own body, to name a colleague as
deputy, and not their usernames: a list of every account is half of a password guess. A member's
e-mail address is for the notices: the administrator and the member see it, nobody else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from meeting_room.access import Actor
from meeting_room.db import tables as t
from meeting_room.errors import PermissionDeniedError
from meeting_room.roles import Role

OFFICERS = (Role.CHAIR, Role.SECRETARY, Role.CLERK)


@dataclass(frozen=True)
class Directory:
    actor: Actor
    body_id: str | None  # the reader's own body (read only for a reader who is no officer)
    everyone: bool

    def sees(self, member: t.Member) -> bool:
        own_body = self.body_id is not None and member.body_id == self.body_id
        return self.everyone or member.id == self.actor.member_id or own_body

    def sees_username(self, member: t.Member) -> bool:
        return self.everyone or member.id == self.actor.member_id

    def sees_email(self, member: t.Member) -> bool:
        return self.actor.has() or member.id == self.actor.member_id

    def body_to_list(self, asked: str | None) -> str | None:
        """The body whose members a listing shows: ``asked`` for an officer (None: every body), the
        reader's own for a member (refused when another was asked for)."""
        if self.everyone:
            return asked
        if asked is not None and asked != self.body_id:
            raise PermissionDeniedError(
                "Thành viên chỉ xem được danh sách thành viên của cơ quan mình.",
                "A member may list the members of their own body only.",
            )
        return self.body_id

    def check_sees(self, member: t.Member) -> None:
        if not self.sees(member):
            raise PermissionDeniedError(
                "Thành viên chỉ xem được thông tin thành viên của cơ quan mình.",
                "A member may see the members of their own body only.",
            )


def directory_for(session: Session, actor: Actor) -> Directory:
    if actor.has(*OFFICERS):
        return Directory(actor, None, everyone=True)
    me = session.get(t.Member, actor.member_id)
    return Directory(actor, me.body_id if me else None, everyone=False)

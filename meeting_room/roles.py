"""Roles of people in the system and in one meeting."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    """A member's standing roles (what they may do across meetings)."""

    ADMIN = "admin"
    CHAIR = "chair"
    SECRETARY = "secretary"
    CLERK = "clerk"
    MEMBER = "member"
    GUEST = "guest"

    @property
    def label_vi(self) -> str:
        return _ROLE_VI[self]


_ROLE_VI = {
    Role.ADMIN: "Quản trị hệ thống",
    Role.CHAIR: "Chủ tọa",
    Role.SECRETARY: "Thư ký",
    Role.CLERK: "Văn thư",
    Role.MEMBER: "Thành viên",
    Role.GUEST: "Khách mời",
}


class MeetingRole(StrEnum):
    """A participant's role in one meeting."""

    CHAIR = "chair"
    SECRETARY = "secretary"
    MEMBER = "member"
    GUEST = "guest"


# Who signs the minutes, in order: the secretary first, then the chair; signed by both, they are final.
MINUTES_SIGNERS = (MeetingRole.SECRETARY.value, MeetingRole.CHAIR.value)


class BodyKind(StrEnum):
    """What a body is, a setting of the body: it names its members and sets the default voting rule."""

    COUNCIL = "council"  # Hội đồng nhân dân: its members are delegates (đại biểu)
    COMMITTEE = "committee"  # Ủy ban nhân dân
    OTHER = "other"  # a department, a board, any other body

    @property
    def label_vi(self) -> str:
        return _BODY_KIND_VI[self]

    @property
    def member_term(self) -> str:
        """What the body's members are called on every page: one term per thing."""
        return "đại biểu" if self is BodyKind.COUNCIL else "thành viên"

    @property
    def member_term_en(self) -> str:
        return "delegate" if self is BodyKind.COUNCIL else "member"

    @property
    def default_rule(self) -> str:
        """The voting rule preset a new vote starts with (``voting.PRESETS``): the law's rule for
        a council's resolutions and a committee's decisions, a majority of those present elsewhere."""
        return _BODY_KIND_RULE[self]


_BODY_KIND_VI = {BodyKind.COUNCIL: "Hội đồng nhân dân", BodyKind.COMMITTEE: "Ủy ban nhân dân", BodyKind.OTHER: "Cơ quan khác"}
_BODY_KIND_RULE = {BodyKind.COUNCIL: "hdnd_resolution", BodyKind.COMMITTEE: "ubnd_decision", BodyKind.OTHER: "majority_present"}


def counts_as_member(role: str, standing: Iterable[str]) -> bool:
    """Whether a participant counts in the meeting's membership: its quorum, its electorate, its absences. Every
    participant but guests; the meeting's secretary only when a delegate (a standing member) too: the office's
    clerk who keeps the minutes is not one (a walk-through's secretary was counted, and a vote failed by her seat)."""
    if role == MeetingRole.GUEST:
        return False
    return role != MeetingRole.SECRETARY or Role.MEMBER in standing

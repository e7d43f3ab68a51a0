"""Roles of people in the system and in one meeting."""

from __future__ import annotations

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

"""Attendance vocabulary: where a member is, and how the system learnt it."""

from __future__ import annotations

import math
from enum import StrEnum


class AttendanceStatus(StrEnum):
    PRESENT_IN_ROOM = "present_in_room"
    PRESENT_ONLINE = "present_online"
    ABSENT_EXCUSED = "absent_excused"
    ABSENT_UNEXCUSED = "absent_unexcused"
    LEFT = "left"  # was present and left before the end (early departure)

    @property
    def present(self) -> bool:
        return self in (AttendanceStatus.PRESENT_IN_ROOM, AttendanceStatus.PRESENT_ONLINE)

    @property
    def label_vi(self) -> str:
        return {
            AttendanceStatus.PRESENT_IN_ROOM: "Có mặt tại phòng họp",
            AttendanceStatus.PRESENT_ONLINE: "Có mặt trực tuyến",
            AttendanceStatus.ABSENT_EXCUSED: "Vắng mặt có lý do",
            AttendanceStatus.ABSENT_UNEXCUSED: "Vắng mặt không có lý do",
            AttendanceStatus.LEFT: "Đã rời cuộc họp",
        }[self]


LATE_AFTER_MINUTES = 5  # arriving this long after the session started counts as late


class AttendanceSource(StrEnum):
    FACE = "face"
    MANUAL = "manual"
    ONLINE = "online"


class FaceCheck(StrEnum):
    """What a remote participant's own camera showed: the member (confirmed), or someone else."""

    CONFIRMED = "confirmed"
    MISMATCH = "mismatch"

    @property
    def label_vi(self) -> str:
        return {FaceCheck.CONFIRMED: "Đã xác nhận khuôn mặt", FaceCheck.MISMATCH: "Khuôn mặt không khớp"}[self]


def quorum_needed(voting: int) -> int:
    """The meeting's quorum: two thirds of its voting participants (the console, the hall, the replies)."""
    return math.ceil(2 * voting / 3)


class ReplyAnswer(StrEnum):
    """A participant's reply to the invitation (trả lời giấy mời)."""

    IN_ROOM = "in_room"
    ONLINE = "online"
    ABSENT = "absent"  # with a reason
    DEPUTY = "deputy"  # sends someone in their place: a member of the same body or a named guest

    @property
    def attending(self) -> bool:
        return self in (ReplyAnswer.IN_ROOM, ReplyAnswer.ONLINE)

    @property
    def label_vi(self) -> str:
        return {
            ReplyAnswer.IN_ROOM: "Dự họp tại phòng họp",
            ReplyAnswer.ONLINE: "Dự họp trực tuyến",
            ReplyAnswer.ABSENT: "Vắng mặt",
            ReplyAnswer.DEPUTY: "Cử người dự thay",
        }[self]

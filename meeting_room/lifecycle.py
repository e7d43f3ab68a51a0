"""The meeting lifecycle: states, the allowed transitions and the one function that checks them."""

from __future__ import annotations

import logging
from enum import StrEnum

from meeting_room.errors import InvalidTransitionError

log = logging.getLogger(__name__)


class MeetingState(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    IN_SESSION = "in_session"
    ADJOURNED = "adjourned"
    CLOSED = "closed"
    MINUTES_SIGNED = "minutes_signed"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"

    @property
    def label_vi(self) -> str:
        return _STATE_VI[self]


_STATE_VI = {
    MeetingState.SCHEDULED: "Đã lên lịch",
    MeetingState.OPEN: "Đã mở phòng họp",
    MeetingState.IN_SESSION: "Đang họp",
    MeetingState.ADJOURNED: "Tạm dừng",
    MeetingState.CLOSED: "Đã bế mạc",
    MeetingState.MINUTES_SIGNED: "Đã ký biên bản",
    MeetingState.ARCHIVED: "Đã lưu trữ",
    MeetingState.CANCELLED: "Đã hủy",
}

S = MeetingState
TRANSITIONS: dict[MeetingState, frozenset[MeetingState]] = {
    S.SCHEDULED: frozenset({S.OPEN, S.CANCELLED}),
    S.OPEN: frozenset({S.IN_SESSION, S.CANCELLED}),
    S.IN_SESSION: frozenset({S.ADJOURNED, S.CLOSED}),
    S.ADJOURNED: frozenset({S.IN_SESSION, S.CLOSED}),
    S.CLOSED: frozenset({S.MINUTES_SIGNED}),
    S.MINUTES_SIGNED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
    S.CANCELLED: frozenset(),
}

# States in which the meeting's record (agenda, documents, attendance) may still change.
EDITABLE = frozenset({S.SCHEDULED, S.OPEN, S.IN_SESSION, S.ADJOURNED})
# States in which people can be present.
RUNNING = frozenset({S.OPEN, S.IN_SESSION, S.ADJOURNED})


def _named(meeting_id: str, title: str | None) -> tuple[str, str]:
    """The meeting as people know it, in an error message: its title (its id only if untitled)."""
    return (f"“{title}”", f"“{title}”") if title else (meeting_id, meeting_id)


def check_transition(meeting_id: str, current: MeetingState, target: MeetingState, *, title: str | None = None) -> None:
    """Raise ``InvalidTransitionError`` unless ``current -> target`` is allowed; ``title`` names the meeting."""
    allowed = TRANSITIONS[current]
    vi, en = _named(meeting_id, title)
    if target not in allowed:
        names = ", ".join(sorted(allowed)) or "(none: final state)"
        names_vi = ", ".join(s.label_vi for s in sorted(allowed)) or "không có (trạng thái cuối)"
        raise InvalidTransitionError(
            f"Cuộc họp {vi} đang ở trạng thái “{current.label_vi}”, không thể chuyển sang “{target.label_vi}”. Được phép: {names_vi}.",
            f"Meeting {en} is {current}; cannot go to {target}. Allowed: {names}.",
            meeting_id=meeting_id,
            state=current.value,
            requested=target.value,
            allowed=sorted(allowed),
        )
    log.info("meeting %s: %s -> %s", meeting_id, current, target)


def require_state(
    meeting_id: str, current: MeetingState, allowed: frozenset[MeetingState], what_vi: str, what_en: str, *, title: str | None = None
) -> None:
    """Raise a 409-class error when the meeting's state does not allow ``what``; ``title`` names the meeting."""
    if current not in allowed:
        vi, en = _named(meeting_id, title)
        raise InvalidTransitionError(
            f"Không thể {what_vi}: cuộc họp {vi} đang ở trạng thái “{current.label_vi}”.",
            f"Cannot {what_en}: meeting {en} is {current}.",
            meeting_id=meeting_id,
            state=current.value,
            allowed=sorted(allowed),
        )

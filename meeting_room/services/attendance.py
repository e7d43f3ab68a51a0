"""Attendance records and the live presence summary."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_overseer
from meeting_room.attendance import AttendanceSource, AttendanceStatus, quorum_needed
from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError
from meeting_room.lifecycle import RUNNING, MeetingState, require_state
from meeting_room.roles import counts_as_member
from meeting_room.store import Store

# Absence (with or without apology) can be recorded before the meeting opens.
_ABSENCE_STATES = RUNNING | {MeetingState.SCHEDULED}


def record(
    store: Store,
    actor: Actor | None,
    meeting_id: str,
    member_id: str,
    status: AttendanceStatus,
    source: AttendanceSource = AttendanceSource.MANUAL,
    *,
    reason: str | None = None,
    confidence: float | None = None,
    camera: str | None = None,
) -> None:
    """Record where a member is. ``actor=None`` is the system (face recognition, the online join)."""
    if status is AttendanceStatus.ABSENT_EXCUSED and not (reason or "").strip():
        raise InvalidInputError("Vắng mặt có lý do cần ghi rõ lý do", "An excused absence needs a reason", field="reason")
    if actor is not None and source is not AttendanceSource.MANUAL:
        raise InvalidInputError(
            "Người dùng chỉ ghi điểm danh thủ công; nhận diện khuôn mặt và trực tuyến do hệ thống ghi",
            "People record attendance manually; face and online attendance come from the system",
            accepted=[AttendanceSource.MANUAL.value],
            received=source.value,
        )

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        if actor is not None:
            require_overseer(session, actor, meeting, action_vi="ghi điểm danh", action_en="record attendance")
        allowed = RUNNING if status.present else _ABSENCE_STATES
        require_state(meeting.id, MeetingState(meeting.state), allowed, "ghi điểm danh", "record attendance", title=meeting.title)
        if session.get(t.Participant, (meeting_id, member_id)) is None:
            raise InvalidInputError(
                f"Thành viên {member_id} không có trong danh sách dự họp",
                f"Member {member_id} is not a participant",
                member_id=member_id,
            )
        return ev.AttendanceRecorded(
            meeting_id=meeting_id,
            member_id=member_id,
            status=status,
            source=source,
            reason=reason,
            confidence=confidence,
            camera=camera,
        )

    store.append(decide, actor_id=actor.member_id if actor else None)


def all_present(store: Store, actor: Actor, meeting_id: str) -> int:
    """ "Tất cả có mặt": everyone not yet marked, or marked absent without a reason, is present in the
    room, in one write (one event each, appended together). An excused absence, someone who left or
    who is already present (in the room or online) keeps their record. Returns how many were marked."""

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, meeting_id)
        require_overseer(session, actor, meeting, action_vi="ghi điểm danh", action_en="record attendance")
        require_state(meeting.id, MeetingState(meeting.state), RUNNING, "ghi điểm danh", "record attendance")
        recorded = select(t.Attendance.member_id, t.Attendance.status).where(t.Attendance.meeting_id == meeting_id)
        marked = dict(session.execute(recorded).all())
        people = session.scalars(
            select(t.Participant.member_id).where(t.Participant.meeting_id == meeting_id).order_by(t.Participant.member_id)
        )
        return [
            ev.AttendanceRecorded(
                meeting_id=meeting_id, member_id=member_id, status=AttendanceStatus.PRESENT_IN_ROOM, source=AttendanceSource.MANUAL
            )
            for member_id in people
            if marked.get(member_id) in (None, AttendanceStatus.ABSENT_UNEXCUSED)
        ]

    return len(store.append_all(decide, actor_id=actor.member_id))


@dataclass(frozen=True)
class Summary:
    """Counts over the meeting's voting participants (chair, secretary, members; guests apart)."""

    expected: int
    present_in_room: int
    present_online: int
    absent_excused: int
    absent_unexcused: int
    left: int
    not_recorded: int
    guests_present: int

    @property
    def present(self) -> int:
        return self.present_in_room + self.present_online

    @property
    def quorum_needed(self) -> int:
        """The meeting's quorum: two thirds of its voting participants (the console, the hall)."""
        return quorum_needed(self.expected)

    @property
    def quorum_reached(self) -> bool:
        return self.expected > 0 and self.present >= self.quorum_needed


def summary(session: Session, meeting_id: str) -> Summary:
    rows = session.execute(
        select(t.Participant.role, t.Attendance.status, t.Member.roles)
        .select_from(t.Participant)
        .join(t.Member, t.Member.id == t.Participant.member_id)
        .outerjoin(
            t.Attendance,
            (t.Attendance.meeting_id == t.Participant.meeting_id) & (t.Attendance.member_id == t.Participant.member_id),
        )
        .where(t.Participant.meeting_id == meeting_id)
    ).all()
    counts = {s: 0 for s in AttendanceStatus}
    expected = not_recorded = guests = 0
    for role, status, standing in rows:
        if not counts_as_member(role, standing or []):  # a guest, or a secretary who is no delegate: present, not counted
            guests += status is not None and AttendanceStatus(status).present
            continue
        expected += 1
        if status is None:
            not_recorded += 1
        else:
            counts[AttendanceStatus(status)] += 1
    return Summary(
        expected,
        counts[AttendanceStatus.PRESENT_IN_ROOM],
        counts[AttendanceStatus.PRESENT_ONLINE],
        counts[AttendanceStatus.ABSENT_EXCUSED],
        counts[AttendanceStatus.ABSENT_UNEXCUSED],
        counts[AttendanceStatus.LEFT],
        not_recorded,
        guests,
    )


def record_online(store: Store, meeting_id: str, member_id: str, connected: bool) -> bool:
    """A remote participant's call connected (present online) or ended for good (left). Nothing is
    written when it changes nothing: a reconnect of someone already online, a member who is in the
    room, a meeting that is no longer running. True when an event was recorded."""

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = session.get(t.Meeting, meeting_id)
        if meeting is None or MeetingState(meeting.state) not in RUNNING or session.get(t.Participant, (meeting_id, member_id)) is None:
            return []
        row = session.get(t.Attendance, (meeting_id, member_id))
        status = AttendanceStatus(row.status) if row is not None else None
        if connected:
            if status in (AttendanceStatus.PRESENT_ONLINE, AttendanceStatus.PRESENT_IN_ROOM):
                return []
            new = AttendanceStatus.PRESENT_ONLINE
        else:
            if status is not AttendanceStatus.PRESENT_ONLINE:
                return []  # only an online presence ends when the call does
            new = AttendanceStatus.LEFT
        return [ev.AttendanceRecorded(meeting_id=meeting_id, member_id=member_id, status=new, source=AttendanceSource.ONLINE)]

    return bool(store.append_all(decide))

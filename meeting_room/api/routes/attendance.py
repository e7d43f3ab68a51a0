"""Attendance: records per participant and the live presence summary."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room.access import get_meeting, oversees, require_view
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.schemas import Out
from meeting_room.attendance import LATE_AFTER_MINUTES, AttendanceSource, AttendanceStatus, FaceCheck
from meeting_room.db import tables as t
from meeting_room.roles import MeetingRole
from meeting_room.services import attendance
from meeting_room.text import LongText

router = APIRouter(prefix="/api/meetings/{meeting_id}/attendance", tags=["attendance"])


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: AttendanceStatus
    reason: LongText | None = None
    source: AttendanceSource = AttendanceSource.MANUAL


class RecordOut(BaseModel):
    member_id: str
    full_name: str
    role: MeetingRole
    status: AttendanceStatus | None
    status_label: str
    source: AttendanceSource | None
    reason: str | None
    confidence: float | None
    camera: str | None
    recorded_at: datetime | None
    first_present_at: datetime | None
    late_minutes: int | None = Field(None, description="Minutes after the session started that the member first arrived")
    late: bool = Field(False, description=f"Arrived {LATE_AFTER_MINUTES} minutes or more after the session started")
    face_check: FaceCheck | None = Field(None, description="A remote participant's own camera: their face confirmed, or a mismatch")
    face_check_at: datetime | None = None
    face_check_looks_like: str | None = Field(None, description="Mismatch: the name of the other participant the face matched")


class SummaryOut(Out):
    expected: int
    present: int
    present_in_room: int
    present_online: int
    absent_excused: int
    absent_unexcused: int
    left: int
    not_recorded: int
    guests_present: int
    quorum_needed: int = Field(description="Members who must be present: two thirds of the voting participants")
    quorum_reached: bool


class AttendanceOut(BaseModel):
    summary: SummaryOut
    records: list[RecordOut]
    started_at: datetime | None = Field(description="When the session first started")
    unknown_faces: dict[str, int] = Field(description="Per camera: faces in view that match no participant (no image kept)")


def summary_out(session: Session, meeting_id: str) -> SummaryOut:
    return SummaryOut.model_validate(attendance.summary(session, meeting_id))


@router.get("")
def get_attendance(meeting_id: str, store: StoreDep, actor: ActorDep) -> AttendanceOut:
    """Every participant with their attendance, and the counts (present in room / online / absent)."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        overseer = oversees(session, actor, meeting)  # an absence's reason may be a private matter, as in the replies
        rows = session.execute(
            select(t.Participant, t.Member, t.Attendance)
            .join(t.Member, t.Member.id == t.Participant.member_id)
            .outerjoin(
                t.Attendance,
                (t.Attendance.meeting_id == t.Participant.meeting_id) & (t.Attendance.member_id == t.Participant.member_id),
            )
            .where(t.Participant.meeting_id == meeting_id)
            .order_by(t.Member.full_name)
        ).all()
        names = {m.id: m.full_name for _, m, _ in rows}
        records = []
        for p, m, a in rows:
            status = AttendanceStatus(a.status) if a else None
            late = None
            if a is not None and a.first_present_at is not None and meeting.started_at is not None:
                late = max(0, int((a.first_present_at - meeting.started_at).total_seconds() // 60))
            records.append(
                RecordOut(
                    member_id=m.id,
                    full_name=m.full_name,
                    role=MeetingRole(p.role),
                    status=status,
                    status_label=status.label_vi if status else "Chưa điểm danh",
                    source=AttendanceSource(a.source) if a else None,
                    reason=a.reason if a and (overseer or a.member_id == actor.member_id) else None,
                    confidence=a.confidence if a else None,
                    camera=a.camera if a else None,
                    recorded_at=a.recorded_at if a else None,
                    first_present_at=a.first_present_at if a else None,
                    late_minutes=late,
                    late=late is not None and late >= LATE_AFTER_MINUTES,
                    face_check=FaceCheck(a.face_check) if a is not None and a.face_check else None,
                    face_check_at=a.face_check_at if a else None,
                    face_check_looks_like=names.get(a.face_check_looks_like) if a is not None and a.face_check_looks_like else None,
                )
            )
        return AttendanceOut(
            summary=summary_out(session, meeting_id),
            records=records,
            started_at=meeting.started_at,
            unknown_faces=meeting.unknown_faces or {},
        )


@router.put("/{member_id}")
def record(meeting_id: str, member_id: str, body: AttendanceIn, store: StoreDep, actor: ActorDep) -> AttendanceOut:
    """Record a participant's attendance by hand (the meeting's chair or secretary, or a clerk)."""
    attendance.record(store, actor, meeting_id, member_id, body.status, body.source, reason=body.reason)
    return get_attendance(meeting_id, store, actor)


@router.post("/all-present")
def all_present(meeting_id: str, store: StoreDep, actor: ActorDep) -> AttendanceOut:
    """ "Tất cả có mặt": everyone not yet marked (or absent without a reason) is present in the room, in one write."""
    attendance.all_present(store, actor, meeting_id)
    return get_attendance(meeting_id, store, actor)

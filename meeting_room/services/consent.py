"""The one rule for biometric data (Decree 13/2023/NĐ-CP): a member's faces and voiceprints are
used only while the member is active and has consented. Here as a check (before enrolling) and as
the query every gallery is read with, so that faces and voices cannot drift apart."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from meeting_room.db import tables as t
from meeting_room.errors import ConflictError


def require_consent(member: t.Member) -> None:
    if not member.active:
        raise ConflictError(f"Tài khoản {member.full_name} đã bị khóa", f"Member {member.id} is disabled", member_id=member.id)
    if not member.biometric_consent:
        raise ConflictError(
            f"{member.full_name} chưa đồng ý cho xử lý dữ liệu sinh trắc (Nghị định 13/2023/NĐ-CP): hãy ghi nhận sự đồng ý trước",
            f"{member.full_name} has not consented to biometric processing (Decree 13/2023): record consent first",
            member_id=member.id,
        )


def consented(
    session: Session, table: type[t.FaceEncoding | t.VoicePrint], data: InstrumentedAttribute[bytes], member_ids: list[str] | None = None
) -> list[tuple[str, bytes]]:
    """(member id, ``data``) of each row of ``table`` whose member is active and has consented (of
    ``member_ids`` when given), by member, in enrolment order."""
    query = (
        select(table.member_id, data)
        .join(t.Member, t.Member.id == table.member_id)
        .where(t.Member.active.is_(True), t.Member.biometric_consent.is_(True))
        .order_by(table.member_id, table.id)
    )
    if member_ids is not None:
        query = query.where(table.member_id.in_(member_ids))
    return [(member_id, blob) for member_id, blob in session.execute(query)]

"""Speaking statistics: turns and speaking time per person, in one meeting and over a period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel

from meeting_room.access import get_meeting, require_body_reports, require_view, visible_meeting_ids
from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep
from meeting_room.errors import InvalidInputError
from meeting_room.reads import speaking_stats

router = APIRouter(tags=["transcripts"])


class SpeakerStatsOut(BaseModel):
    key: str
    member_id: str | None
    name: str
    turns: int
    seconds: float
    share: float
    longest_s: float


class SpeakingStatsOut(BaseModel):
    speakers: list[SpeakerStatsOut]
    total_s: float
    turns: int


class PeriodMeetingOut(BaseModel):
    id: str
    title: str
    starts_at: datetime


class PeriodStatsOut(SpeakingStatsOut):
    body_id: str
    date_from: date
    date_to: date
    meetings: list[PeriodMeetingOut]


def _out(stats: speaking_stats.SpeakingStats) -> SpeakingStatsOut:
    speakers = [SpeakerStatsOut.model_validate(s, from_attributes=True) for s in stats.speakers]
    return SpeakingStatsOut(speakers=speakers, total_s=stats.total_s, turns=stats.turns)


@router.get("/api/meetings/{meeting_id}/speaking-stats")
def meeting_speaking_stats(meeting_id: str, store: StoreDep, actor: ActorDep) -> SpeakingStatsOut:
    """Per speaker of the meeting's transcript (the final pass when there is one, else the live
    draft): turns, speaking seconds, share of the speech and the longest turn. Whoever sees the
    transcript sees these."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        return _out(speaking_stats.of_meeting(session, meeting_id))


@router.get("/api/speaking-stats")
def period_speaking_stats(
    store: StoreDep,
    actor: ActorDep,
    settings: SettingsDep,
    body_id: str,
    date_from: Annotated[date, Query(description="Meetings starting on or after this day (YYYY-MM-DD, the server's time zone)")],
    date_to: Annotated[date, Query(description="Meetings starting on or before this day")],
) -> PeriodStatsOut:
    """The same summed over the body's ended meetings in the period that the caller sees (clerks,
    administrators and the body's chairs and secretaries). Unnamed speakers form one row."""
    if date_from > date_to:
        raise InvalidInputError(
            f"Ngày bắt đầu ({date_from:%d/%m/%Y}) sau ngày kết thúc ({date_to:%d/%m/%Y})",
            f"The start date ({date_from}) is after the end date ({date_to})",
            date_from=str(date_from),
            date_to=str(date_to),
        )
    with store.read() as session:
        require_body_reports(session, actor, body_id, action_vi="xem thống kê phát biểu", action_en="see speaking statistics")
        visible = visible_meeting_ids(session, actor)
        held = speaking_stats.ended_meetings(session, body_id, date_from, date_to, ZoneInfo(settings.timezone), visible)
        stats = speaking_stats.of_period(session, held)
        return PeriodStatsOut(
            **_out(stats).model_dump(),
            body_id=body_id,
            date_from=date_from,
            date_to=date_to,
            meetings=[PeriodMeetingOut(id=m.id, title=m.title, starts_at=m.starts_at) for m in held],
        )

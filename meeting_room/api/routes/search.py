"""Search over the transcripts, minutes, agendas and votes of every meeting the caller may see."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from meeting_room.access import readable_minutes_ids, visible_meeting_ids
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.schemas import Out
from meeting_room.reads import search_index
from transcripts.search import parse_query

router = APIRouter(tags=["minutes", "search"])


class HitOut(Out):
    meeting_id: str
    meeting_title: str
    meeting_date: str
    kind: str
    agenda_item_id: str | None
    agenda_title: str | None
    speaker: str | None
    start_s: float | None
    snippet_html: str
    link: str
    score: float


class SearchOut(BaseModel):
    query: str
    total: int = Field(description=f"Matches; with ``more``: the {search_index.RANKED} newest, among which the hits are ranked")
    more: bool = Field(description="There are more matches than ``total`` (narrow the search with a date, a body or a phrase)")
    hits: list[HitOut]


@router.get("/api/search")
def search(
    store: StoreDep,
    actor: ActorDep,
    q: str = Query(..., max_length=300, description='Words (all must occur), "an exact phrase"; diacritics optional'),
    body_id: str | None = None,
    date_from: Annotated[date | None, Query(description="Meetings on or after this day (YYYY-MM-DD)")] = None,
    date_to: Annotated[date | None, Query(description="Meetings on or before this day (YYYY-MM-DD)")] = None,
    speaker: str | None = Query(None, max_length=255, description="A member id or a speaker's name"),
    agenda_item_id: str | None = None,
    poll_outcome: Literal["passed", "failed", "partial", "tie", "no_quorum", "collected"] | None = None,
    kind: Literal["transcript", "minutes", "agenda", "poll"] | None = Query(
        None, description="Lines of the transcript, minutes sections, agenda items, or the questions of votes held"
    ),
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=10_000),
) -> SearchOut:
    """Search the transcripts, minutes, agenda items and votes of every meeting you may see (clerks: all),
    ranked, with highlighted snippets."""
    query = parse_query(q)
    with store.read() as session:
        visible = visible_meeting_ids(session, actor)
        minutes_of = readable_minutes_ids(session, actor)  # a draft is read only by those who oversee it
        # a real day (2026-13-45 is a 422, not an empty page), as the index files it
        start, end = (d.isoformat() if d else None for d in (date_from, date_to))
        filters = search_index.Filters(body_id, start, end, speaker, agenda_item_id, poll_outcome, kind, visible, minutes_of)
        found = search_index.search(session, query, filters, limit=limit, offset=offset)
    return SearchOut(query=q, total=found.total, more=found.more, hits=[HitOut.model_validate(h) for h in found.hits])

"""The archive search: a read model of searchable text, and the queries over it.

``reindex_meeting`` rebuilds one meeting's documents (the lines of its current transcript and the
sections of its newest minutes) from the read models; projections call it when those change, so
the index is derived like every other read model and ``rebuild`` recreates it. Queries run on
SQLite FTS5 or PostgreSQL full-text search, with the same folding and the same results shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.reads.transcript_reads import agenda_items_of, current_pass, lines
from transcripts.search import Query, snippet_html
from transcripts.text import fold

# Dates are filed in Vietnam time (no daylight saving); projections must not depend on settings.
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
OUTCOMES = ("passed", "failed", "partial", "tie", "no_quorum", "collected")


@dataclass(frozen=True)
class Filters:
    body_id: str | None = None
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None
    speaker: str | None = None  # a member id or a speaker's name as shown
    agenda_item_id: str | None = None
    poll_outcome: str | None = None  # one of OUTCOMES
    kind: str | None = None  # transcript | minutes
    meeting_ids: frozenset[str] | None = None  # the meetings the reader may see (None: all)


@dataclass(frozen=True)
class Hit:
    meeting_id: str
    meeting_title: str
    meeting_date: str
    body_id: str
    kind: str
    ref_id: str
    agenda_item_id: str | None
    agenda_title: str | None
    speaker: str | None
    start_s: float | None
    recording_id: str | None
    snippet_html: str
    score: float

    @property
    def link(self) -> str:
        """Where the hit is: its moment in the recording (media fragment), or the minutes."""
        if self.kind == "transcript" and self.recording_id and self.start_s is not None:
            return f"/api/meetings/{self.meeting_id}/recordings/{self.recording_id}/file#t={self.start_s:.1f}"
        if self.kind == "transcript":
            return f"/api/meetings/{self.meeting_id}/transcript"
        return f"/api/meetings/{self.meeting_id}/minutes"


@dataclass(frozen=True)
class Results:
    total: int
    hits: list[Hit]


# --- indexing -----------------------------------------------------------------------------------


def _outcomes_by_item(session: Session, meeting_id: str) -> dict[str | None, str]:
    found: dict[str | None, set[str]] = {}
    for item_id, result in session.execute(
        select(t.Poll.agenda_item_id, t.Poll.result).where(t.Poll.meeting_id == meeting_id, t.Poll.result.is_not(None))
    ).tuples():
        found.setdefault(item_id, set()).add(str(result.get("outcome")))
    return {item: " " + " ".join(sorted(values)) + " " for item, values in found.items()}


def reindex_meeting(session: Session, meeting_id: str) -> int:
    """Replace the meeting's search documents; returns how many were written."""
    session.execute(delete(t.SearchDoc).where(t.SearchDoc.meeting_id == meeting_id))
    meeting = session.get(t.Meeting, meeting_id)
    if meeting is None or meeting.state == MeetingState.CANCELLED.value:
        return 0
    items = {i.id: i.title for i in session.scalars(select(t.AgendaItem).where(t.AgendaItem.meeting_id == meeting_id))}
    outcomes = _outcomes_by_item(session, meeting_id)
    base = {"meeting_id": meeting_id, "body_id": meeting.body_id, "meeting_date": meeting.starts_at.astimezone(LOCAL).date().isoformat()}
    rows: list[dict[str, Any]] = []

    run = current_pass(session, meeting_id)
    if run is not None:
        recording_id = run.recording_id or session.scalar(
            select(t.Recording.id).where(t.Recording.meeting_id == meeting_id).order_by(t.Recording.added_at).limit(1)
        )
        found = lines(session, run.id)
        for line, item in zip(found, agenda_items_of(session, meeting, run, [x.start for x in found]), strict=True):
            item_id = item if item in items else None  # an item removed since
            rows.append(
                {
                    **base,
                    "kind": "transcript",
                    "ref_id": line.id,
                    "agenda_item_id": item_id,
                    "agenda_title": items.get(item_id) if item_id else None,
                    "speaker": line.speaker,
                    "speaker_member_id": line.member_id,
                    "poll_outcomes": outcomes.get(item_id),
                    "start_s": line.start,
                    "recording_id": recording_id,
                    "text": line.text,
                    "folded": fold(line.text),
                }
            )

    version = session.scalar(
        select(t.MinutesVersion).where(t.MinutesVersion.meeting_id == meeting_id).order_by(t.MinutesVersion.version.desc()).limit(1)
    )
    if version is not None:
        for section in version.sections:
            item_id = section["item_id"]
            rows.append(
                {
                    **base,
                    "kind": "minutes",
                    "ref_id": f"v{version.version}:{item_id}",
                    "agenda_item_id": item_id if item_id in items else None,
                    "agenda_title": items.get(item_id),
                    "speaker": None,
                    "speaker_member_id": None,
                    "poll_outcomes": outcomes.get(item_id),
                    "start_s": None,
                    "recording_id": None,
                    "text": section["text"],
                    "folded": fold(section["text"]),
                }
            )
    if rows:
        session.execute(insert(t.SearchDoc), rows)
    return len(rows)


# --- querying -----------------------------------------------------------------------------------


def _where(filters: Filters, params: dict[str, Any]) -> list[str]:
    clauses = []
    simple = {
        "body_id": "d.body_id = :body_id",
        "date_from": "d.meeting_date >= :date_from",
        "date_to": "d.meeting_date <= :date_to",
        "agenda_item_id": "d.agenda_item_id = :agenda_item_id",
        "kind": "d.kind = :kind",
    }
    for name, clause in simple.items():
        value = getattr(filters, name)
        if value is not None:
            clauses.append(clause)
            params[name] = value
    if filters.speaker is not None:
        clauses.append("(d.speaker_member_id = :speaker OR d.speaker = :speaker)")
        params["speaker"] = filters.speaker
    if filters.poll_outcome is not None:
        clauses.append("d.poll_outcomes LIKE :outcome")
        params["outcome"] = f"% {filters.poll_outcome} %"
    if filters.meeting_ids is not None:
        names = []
        for index, meeting_id in enumerate(sorted(filters.meeting_ids)):
            params[f"m{index}"] = meeting_id
            names.append(f":m{index}")
        clauses.append(f"d.meeting_id IN ({', '.join(names) or 'NULL'})")
    return clauses


_COLUMNS = (
    "d.meeting_id, m.title, d.meeting_date, d.body_id, d.kind, d.ref_id, d.agenda_item_id, d.agenda_title, "
    "d.speaker, d.start_s, d.recording_id, d.text"
)


def search(session: Session, query: Query, filters: Filters = Filters(), *, limit: int = 20, offset: int = 0) -> Results:
    """Ranked hits (best first) with highlighted snippets, and how many hits there are in all."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    clauses = _where(filters, params)
    if session.get_bind().dialect.name == "postgresql":
        params["q"] = query.tsquery()
        match = "to_tsvector('simple', d.folded) @@ q"
        source = "search_docs d CROSS JOIN to_tsquery('simple', :q) q"
        score = "ts_rank_cd(to_tsvector('simple', d.folded), q)"
        order = "score DESC"
    else:
        params["q"] = query.fts5()
        match = "search_fts MATCH :q"
        source = "search_fts JOIN search_docs d ON d.id = search_fts.rowid"
        score = "-bm25(search_fts)"  # bm25 is lower for better matches
        order = "score DESC"
    where = " AND ".join([match, *clauses])
    total: int = session.execute(text(f"SELECT count(*) FROM {source} WHERE {where}"), params).scalar_one()
    rows = session.execute(
        text(
            f"SELECT {_COLUMNS}, {score} AS score FROM {source} JOIN meetings m ON m.id = d.meeting_id "
            f"WHERE {where} ORDER BY {order}, d.meeting_date DESC, d.id LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    hits = [
        Hit(
            meeting_id=r[0],
            meeting_title=r[1],
            meeting_date=r[2],
            body_id=r[3],
            kind=r[4],
            ref_id=r[5],
            agenda_item_id=r[6],
            agenda_title=r[7],
            speaker=r[8],
            start_s=r[9],
            recording_id=r[10],
            snippet_html=snippet_html(r[11], query),
            score=round(float(r[12]), 6),
        )
        for r in rows
    ]
    return Results(total, hits)

"""The archive search: a read model of searchable text, and the queries over it.

``reindex_meeting`` rebuilds one meeting's documents (the lines of its current transcript and the
sections of its newest minutes) from the read models; projections call it when those change, so
the index is derived like every other read model and ``rebuild`` recreates it. Queries run on
SQLite FTS5 or PostgreSQL full-text search, with the same folding and the same results shape.

A common word matches a large part of the archive, and SQLite's cost is in touching every hit.
Without filters nothing joins or sorts every hit: FTS5 counts the matches and keeps the
best-ranked few thousand (it scores each, which it must for an exact ranking), and only as many
of their rows are read as settle the full order (score, newer meeting, document; ties taken
whole): provably the hits of ranking every hit. With filters every match is joined to its row
once, and scoring, counting and ranking the rows that pass happen in that one statement.

PostgreSQL keeps each document's tsvector in a stored generated column under the GIN index
(migration 0019), so checking a phrase and ranking a hit read that vector instead of parsing the
text again; one statement checks, scores, counts and ranks, and only the page's rows are read whole.
"""

from __future__ import annotations

import json
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
    minutes_of: frozenset[str] | None = None  # the meetings whose minutes the reader may read (None: all)


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
    if filters.minutes_of is not None:
        names = []
        for index, meeting_id in enumerate(sorted(filters.minutes_of)):
            params[f"r{index}"] = meeting_id
            names.append(f":r{index}")
        clauses.append(f"(d.kind <> 'minutes' OR d.meeting_id IN ({', '.join(names) or 'NULL'}))")
    return clauses


_COLUMNS = (
    "d.meeting_id, m.title, d.meeting_date, d.body_id, d.kind, d.ref_id, d.agenda_item_id, d.agenda_title, "
    "d.speaker, d.start_s, d.recording_id, d.text"
)


# Best-ranked matches FTS5 hands over: a few first, many more when a tie runs past them (their rows
# are read only as far as the answer needs; beyond both, every hit is ranked as with filters).
CANDIDATES = (2000, 20_000)


def search(session: Session, query: Query, filters: Filters = Filters(), *, limit: int = 20, offset: int = 0) -> Results:
    """Ranked hits (best first: score, then newer meetings, then document order) with highlighted
    snippets, and how many hits there are in all."""
    if session.get_bind().dialect.name == "postgresql":
        return _search_postgresql(session, query, filters, limit=limit, offset=offset)
    return _search_sqlite(session, query, filters, limit=limit, offset=offset)


def _search_postgresql(session: Session, query: Query, filters: Filters, *, limit: int, offset: int) -> Results:
    # One pass over the matches: the stored vector (no text parsed again) is checked, scored and
    # counted; only the page's rows are read whole.
    params: dict[str, Any] = {"q": query.tsquery()}
    where = " AND ".join(["d.tsv @@ q", *_where(filters, params)])
    source = "search_docs d CROSS JOIN to_tsquery('simple', :q) q JOIN meetings m ON m.id = d.meeting_id"
    ranked = session.execute(
        text(
            "SELECT doc, score, count(*) OVER () FROM ("
            f"SELECT d.id AS doc, ts_rank_cd(d.tsv, q) AS score, d.meeting_date AS day FROM {source} WHERE {where}) s "
            "ORDER BY score DESC, day DESC, doc LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit, "offset": offset},
    ).all()
    if ranked:
        total = int(ranked[0][2])
    else:  # nothing, or nothing this far: count alone
        total = session.execute(text(f"SELECT count(*) FROM {source} WHERE {where}"), params).scalar_one() if offset else 0
    return Results(total, _hits(session, query, [(int(r[0]), float(r[1])) for r in ranked]))


def _search_sqlite(session: Session, query: Query, filters: Filters, *, limit: int, offset: int) -> Results:
    params: dict[str, Any] = {"q": query.fts5()}
    clauses = _where(filters, params)
    if not clauses:
        matches: int = session.execute(text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :q"), params).scalar_one()
        return Results(matches, _from_candidates(session, query, params, matches, offset, offset + limit) if matches else [])
    # With filters every match is joined to its row (the filters need it), once: the rows that
    # pass are scored, counted and the best of them kept, all in one statement.
    ranked = session.execute(
        text(
            "SELECT doc, score, count(*) OVER () FROM ("  # bm25 cannot sit beside a window function
            "SELECT d.id AS doc, -bm25(search_fts) AS score, d.meeting_date AS day FROM search_fts "
            "JOIN search_docs d ON d.id = search_fts.rowid JOIN meetings m ON m.id = d.meeting_id "
            f"WHERE {' AND '.join(['search_fts MATCH :q', *clauses])}) "
            "ORDER BY score DESC, day DESC, doc LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit, "offset": offset},
    ).all()
    if ranked:
        total = int(ranked[0][2])
    else:  # nothing, or nothing this far: count alone
        where = " AND ".join(["search_fts MATCH :q", *clauses])
        total = session.execute(
            text(f"SELECT count(*) FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid JOIN meetings m ON m.id = d.meeting_id "
                 f"WHERE {where}"),
            params,
        ).scalar_one() if offset else 0  # fmt: skip
    return Results(total, _hits(session, query, [(int(r[0]), float(r[1])) for r in ranked]))


def _from_candidates(session: Session, query: Query, params: dict[str, Any], matches: int, offset: int, wanted: int) -> list[Hit]:
    """The hits of ranking every match, from the best-ranked matches alone where they settle it."""
    for taken in CANDIDATES:
        hits = _settled(session, query, params, matches, offset, wanted, taken)
        if hits is not None:
            return hits
    # The best matches do not settle it (a tie as long as the list, or rows without a meeting):
    # rank every match, as with filters.
    rows = session.execute(
        text(
            "SELECT d.id, -bm25(search_fts) AS score FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid "
            "JOIN meetings m ON m.id = d.meeting_id WHERE search_fts MATCH :q "
            "ORDER BY score DESC, d.meeting_date DESC, d.id LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": wanted - offset, "offset": offset},
    ).all()
    return _hits(session, query, [(int(r[0]), float(r[1])) for r in rows])


def _settled(
    session: Session, query: Query, params: dict[str, Any], matches: int, offset: int, wanted: int, taken: int
) -> list[Hit] | None:
    """The hits from the ``taken`` best matches alone, or None when those do not settle the order."""
    # The best matches by bm25 (lower is better) from the index alone: FTS5 scores every match
    # either way, and keeping some more costs little; their rows are read a slice at a time.
    best = session.execute(
        text("SELECT rowid, bm25(search_fts) AS s FROM search_fts WHERE search_fts MATCH :q ORDER BY s LIMIT :taken"),
        {**params, "taken": taken},
    ).all()
    ranks = [float(row[1]) for row in best]
    every = len(best) >= matches  # no match beyond them
    size = wanted
    while True:
        end = min(size, len(best))
        while end < len(best) and ranks[end] == ranks[end - 1]:
            end += 1  # a tie is taken whole: the order among equals is settled by the rows
        rank = {int(row[0]): ranks[i] for i, row in enumerate(best[:end])}
        days = session.execute(
            text(
                "SELECT d.id, d.meeting_date FROM search_docs d JOIN meetings m ON m.id = d.meeting_id "
                "WHERE d.id IN (SELECT value FROM json_each(:ids))"
            ),
            {"ids": json.dumps(list(rank))},
        ).all()
        ordered = sorted(days, key=lambda r: r[0])  # document order, then newer meetings first, then score (stable sorts)
        ordered.sort(key=lambda r: r[1], reverse=True)
        ordered.sort(key=lambda r: rank[r[0]])
        if end == len(best) and every:
            settled = True
        else:  # the next match not taken scores no better than ``beyond``: strictly worse when within the list
            beyond = ranks[end] if end < len(best) else ranks[-1]
            settled = len(ordered) >= wanted and rank[ordered[wanted - 1][0]] < beyond
        if settled:  # every hit that could come before the last one shown has been looked at
            return _hits(session, query, [(r[0], -rank[r[0]]) for r in ordered[offset:wanted]])
        if end == len(best):
            return None
        size = 4 * end


def _hits(session: Session, query: Query, scored: list[tuple[int, float]]) -> list[Hit]:
    """The hits for these documents (id, score), in this order."""
    if not scored:
        return []
    params = {f"i{n}": doc for n, (doc, _) in enumerate(scored)}  # a page: at most 100
    rows = session.execute(
        text(
            f"SELECT {_COLUMNS}, d.id FROM search_docs d JOIN meetings m ON m.id = d.meeting_id "
            f"WHERE d.id IN ({', '.join(':' + name for name in params)})"
        ),
        params,
    ).all()
    by_id = {int(r[-1]): r for r in rows}
    return [_hit((*by_id[doc][:-1], score), query) for doc, score in scored]


def _hit(r: Any, query: Query) -> Hit:
    return Hit(
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

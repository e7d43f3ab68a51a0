"""The archive search: a read model of searchable text, and the queries over it.

``reindex_meeting`` rebuilds one meeting's documents (the lines of its current transcript, the
sections of its newest minutes, its agenda items and the questions of its votes) from the read
models; projections call it when those change, so the index is derived like every other read model
and ``rebuild`` recreates it. Queries run on SQLite FTS5 or PostgreSQL full-text search, with the
same folding and the same results shape.

A common word matches a large part of the archive, and both engines' cost is in touching every
hit (reading its postings, its length for the score, its row for a filter). So a search looks at
the ``RANKED`` newest matches only (highest document ids: the text indexed last, i.e. the latest
meetings; a document keeps its id when its meeting is indexed again), reading postings newest
first and stopping there: up to ``RANKED`` matches the ranking and the total are exact; beyond,
the hits are the best of those newest ``RANKED`` and the total says "more than ``RANKED``"
(``Results.more``). The same rule on both engines, so both give the same hits and totals; a clerk
narrows a word that common with a date, a body or a phrase.

SQLite without filters reads the newest matches from FTS5 alone, and only as many of their rows as
settle the full order (score, newer meeting, document; ties taken whole). With filters each match
is joined to its row once, newest first. Indexes let a filter read only what passes it (migrations
0022, 0023): the documents' date; the minutes' own word index (SQLite: an FTS5 table of their own);
on PostgreSQL also the speaker. Neither engine joins the meetings to find matches: a meeting that
is gone has no documents (``reindex_meeting``), and the join misled PostgreSQL's plans. PostgreSQL keeps each document's
tsvector in a stored generated column under the GIN index (migration 0019), so checking a phrase
and ranking a hit read that vector instead of parsing the text again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
from voting import COUNTED, PollState

# Dates are filed in Vietnam time (no daylight saving); projections must not depend on settings.
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
OUTCOMES = ("passed", "failed", "partial", "tie", "no_quorum", "collected")
KINDS = ("transcript", "minutes", "agenda", "poll")
UNPUBLISHED = "closed:"  # before an outcome: the vote closed, its result not published yet


@dataclass(frozen=True)
class Filters:
    body_id: str | None = None
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None
    speaker: str | None = None  # a member id or a speaker's name as shown
    agenda_item_id: str | None = None
    poll_outcome: str | None = None  # one of OUTCOMES
    kind: str | None = None  # one of KINDS
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
        """Where the hit is: its moment in the recording (media fragment), the transcript, the minutes,
        the vote, or the meeting (an agenda item)."""
        if self.kind == "transcript" and self.recording_id and self.start_s is not None:
            return f"/api/meetings/{self.meeting_id}/recordings/{self.recording_id}/file#t={self.start_s:.1f}"
        if self.kind == "transcript":
            return f"/api/meetings/{self.meeting_id}/transcript"
        if self.kind == "poll":
            return f"/api/meetings/{self.meeting_id}/polls/{self.ref_id}"
        if self.kind == "agenda":
            return f"/api/meetings/{self.meeting_id}"
        return f"/api/meetings/{self.meeting_id}/minutes"


@dataclass(frozen=True)
class Results:
    total: int  # every match; with ``more``, the ``RANKED`` newest ones and there are more
    hits: list[Hit]
    more: bool = False


# --- indexing -----------------------------------------------------------------------------------


def _outcomes_by_item(session: Session, meeting_id: str) -> dict[str | None, str]:
    """Each agenda item's vote outcomes as words to filter on. A closed vote's result is seen by the
    meeting's officers until it is published (``access.sees_result``): it is filed as ``closed:…``,
    which a search matches only where the reader may read the minutes (they state every result)."""
    found: dict[str | None, set[str]] = {}
    for row in session.execute(
        select(t.Poll.agenda_item_id, t.Poll.result, t.Poll.state).where(t.Poll.meeting_id == meeting_id, t.Poll.state.in_(COUNTED))
    ):
        outcome = str(row.result.get("outcome"))
        found.setdefault(row.agenda_item_id, set()).add(outcome if row.state == PollState.PUBLISHED.value else UNPUBLISHED + outcome)
    return {item: " " + " ".join(sorted(values)) + " " for item, values in found.items()}


def _agenda_and_votes(session: Session, meeting_id: str, base: dict[str, Any], outcomes: dict[str | None, str]) -> list[dict[str, Any]]:
    """The agenda items (title and description) and the votes held (their question): a clerk finds a
    meeting by what was on it and what was decided, not only by what was said."""
    blank = {"speaker": None, "speaker_member_id": None, "start_s": None, "recording_id": None}
    rows: list[dict[str, Any]] = []
    items = list(session.scalars(select(t.AgendaItem).where(t.AgendaItem.meeting_id == meeting_id).order_by(t.AgendaItem.position)))
    for item in items:
        words = "\n".join(part for part in (item.title, item.description) if part)
        rows.append({**base, **blank, "kind": "agenda", "ref_id": item.id, "agenda_item_id": item.id, "agenda_title": item.title,
                     "poll_outcomes": outcomes.get(item.id), "text": words, "folded": fold(words)})  # fmt: skip
    titles = {item.id: item.title for item in items}
    held = select(t.Poll).where(t.Poll.meeting_id == meeting_id, t.Poll.state.in_(COUNTED)).order_by(t.Poll.closed_at, t.Poll.id)
    for poll in session.scalars(held):  # counted, and not cancelled since (its result stays in the row, void)
        item_id = poll.agenda_item_id if poll.agenda_item_id in titles else None
        outcome = str((poll.result or {}).get("outcome"))
        filed = outcome if poll.state == PollState.PUBLISHED.value else UNPUBLISHED + outcome
        rows.append({**base, **blank, "kind": "poll", "ref_id": poll.id, "agenda_item_id": item_id,
                     "agenda_title": titles.get(item_id or ""), "poll_outcomes": f" {filed} ", "text": poll.title,
                     "folded": fold(poll.title)})  # fmt: skip
    return rows


def reindex_meeting(session: Session, meeting_id: str) -> int:
    """Replace the meeting's search documents; returns how many were written. A document that is
    still there (the same line, the same minutes section) keeps its id: a search looks at the newest
    ids first, and a relabel or a vote's outcome must not make an old meeting's lines new."""
    kept = {
        (kind, ref): doc
        for kind, ref, doc in session.execute(
            select(t.SearchDoc.kind, t.SearchDoc.ref_id, t.SearchDoc.id).where(t.SearchDoc.meeting_id == meeting_id)
        )
    }
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
    rows += _agenda_and_votes(session, meeting_id, base, outcomes)
    again = [{**row, "id": kept[(row["kind"], row["ref_id"])]} for row in rows if (row["kind"], row["ref_id"]) in kept]
    new = [row for row in rows if (row["kind"], row["ref_id"]) not in kept]
    for batch in (again, new):  # one statement per shape: the kept ids, then the new ones numbered after the last
        if batch:
            session.execute(insert(t.SearchDoc), batch)
    return len(rows)


# --- querying -----------------------------------------------------------------------------------


def _given(filters: Filters, params: dict[str, Any], clauses: dict[str, str]) -> list[str]:
    """The clauses of the filters given (a filter's name is its parameter's)."""
    given = {name: clause for name, clause in clauses.items() if getattr(filters, name) is not None}
    params.update({name: getattr(filters, name) for name in given})
    return list(given.values())


def _dates(filters: Filters, params: dict[str, Any]) -> list[str]:
    return _given(filters, params, {"date_from": "d.meeting_date >= :date_from", "date_to": "d.meeting_date <= :date_to"})


def _where(filters: Filters, params: dict[str, Any], *, postgresql: bool) -> list[str]:
    clauses = _dates(filters, params)
    clauses += _given(filters, params, {"body_id": "d.body_id = :body_id", "agenda_item_id": "d.agenda_item_id = :agenda_item_id"})
    if filters.kind in ("transcript", "minutes"):  # written out: PostgreSQL's minutes-only index is partial on it
        clauses.append(f"d.kind = '{filters.kind}'")
    elif filters.kind is not None:
        clauses.append("d.kind = :kind")
        params["kind"] = filters.kind
    if filters.speaker is not None:
        clauses.append("(d.speaker_member_id = :speaker OR d.speaker = :speaker)")
        params["speaker"] = filters.speaker
    if filters.poll_outcome is not None:  # a result not yet published: only where the reader reads the minutes
        params["outcome"], params["unpublished"] = f"% {filters.poll_outcome} %", f"% {UNPUBLISHED}{filters.poll_outcome} %"
        among = "" if filters.minutes_of is None else f" AND d.meeting_id {_among('oids', filters.minutes_of, params, postgresql)}"
        clauses.append(f"(d.poll_outcomes LIKE :outcome OR (d.poll_outcomes LIKE :unpublished{among}))")
    # A reader's meetings may be thousands: one array (or JSON) parameter, not a parameter each, which
    # cost PostgreSQL ~25 ms of binding and planning per search for 2,000 meetings.
    if filters.meeting_ids is not None:
        clauses.append(f"d.meeting_id {_among('mids', filters.meeting_ids, params, postgresql)}")
    if filters.minutes_of is not None:
        clauses.append(f"(d.kind <> 'minutes' OR d.meeting_id {_among('rids', filters.minutes_of, params, postgresql)})")
    return clauses


def _among(name: str, values: frozenset[str], params: dict[str, Any], postgresql: bool) -> str:
    """``= ANY(array)`` on PostgreSQL, ``IN (json_each)`` on SQLite: the condition after the column."""
    if postgresql:
        params[name] = sorted(values)
        return f"= ANY(CAST(:{name} AS text[]))"
    params[name] = json.dumps(sorted(values))
    return f"IN (SELECT value FROM json_each(:{name}))"


_COLUMNS = (
    "d.meeting_id, m.title, d.meeting_date, d.body_id, d.kind, d.ref_id, d.agenda_item_id, d.agenda_title, "
    "d.speaker, d.start_s, d.recording_id, d.text"
)


# How many matches a search looks at: the newest (see above); 100 pages of 20 hits.
RANKED = 2000
# PostgreSQL's first look back: this many of the newest documents (then further, by what it found there).
PG_FIRST_SPAN = 100_000
# The planner's cost of a page read out of order, for searches (the common setting for data in memory or on SSD).
PG_RANDOM_PAGE_COST = 1.1


def search(session: Session, query: Query, filters: Filters = Filters(), *, limit: int = 20, offset: int = 0) -> Results:
    """Ranked hits (best first: score, then newer meetings, then document order) with highlighted
    snippets, among the ``RANKED`` newest matches, and how many matches there are (up to ``RANKED``)."""
    params: dict[str, Any] = {"cap": RANKED + 1, "ranked": RANKED, "limit": limit, "offset": offset}
    postgresql = session.get_bind().dialect.name == "postgresql"
    clauses = _where(filters, params, postgresql=postgresql)
    if postgresql:
        # The archive's pages are in memory (shared buffers or the OS cache): a page read out of order
        # costs about one in order, not PostgreSQL's default 4. With 4 the planner walked the newest
        # documents one by one (~270,000 rows for `hop lop` with a speaker, p50 64-70 ms) where the
        # word and speaker indexes find them (38-40 ms; benchmarks/search_archive.py, README). For the
        # rest of the caller's transaction (a read: the route asks nothing after the search).
        session.execute(text("SELECT set_config('random_page_cost', :cost, true)"), {"cost": str(PG_RANDOM_PAGE_COST)})
        params["q"] = query.tsquery()
        newest = (
            "SELECT d.id AS doc, ts_rank_cd(d.tsv, q) AS score, d.meeting_date AS day FROM search_docs d "
            "CROSS JOIN to_tsquery('simple', :q) q "
            f"WHERE {' AND '.join(['d.tsv @@ q', 'd.id > :floor', *clauses])} ORDER BY d.id DESC LIMIT :cap"
        )
        # PostgreSQL guesses a phrase's or several words' matches as if the words were unrelated (a
        # tenth of the truth) and then reads every match to sort them: without filters it looks at
        # the newest documents first, and further back only while the cap is not reached there
        # (filters make every plan read the matches that pass them, which are few).
        top = session.scalar(text("SELECT max(id) FROM search_docs")) or 0
        span = top + 1 if clauses else PG_FIRST_SPAN
        while True:
            params["floor"] = top - span
            found = _page(session, query, newest, params)
            if found.more or params["floor"] <= 0:
                return found
            # far enough back to reach the cap at the density found (twice, for good measure)
            span = span * 2 * RANKED // found.total if found.total else 8 * span
    params["q"] = query.fts5()
    fts = fts_table(filters)
    if not clauses:
        return _newest_sqlite(session, query, params, limit, offset)
    if filters.date_from is not None or filters.date_to is not None:
        # FTS5 hands over the matches of a span of document ids only, skipping the rest of each word's
        # postings: the span of the documents of those dates, through their index (meetings are
        # indexed about in date order, so it is close; any order stays exact, the dates are checked)
        dated = " AND ".join(_dates(filters, params))
        span = session.execute(text(f"SELECT min(d.id), max(d.id) FROM search_docs d WHERE {dated}"), params).one()
        if span[0] is None:
            return Results(0, [], False)
        params["lo"], params["hi"] = span
        clauses = [f"{fts}.rowid BETWEEN :lo AND :hi", *clauses]
    return _page(session, query, _joined(fts, clauses), params)


def fts_table(filters: Filters) -> str:
    """SQLite's word index for these filters: the minutes' own (migration 0023) for the minutes only,
    so that a common word does not read every transcript line that has it; else the whole archive's.
    A hit's bm25 score is over the documents of the index it comes from."""
    return "search_fts_minutes" if filters.kind == "minutes" else "search_fts"


def _joined(fts: str, clauses: Sequence[str]) -> str:
    """SQLite's newest matches joined to their rows (for the filters), one past the cap."""
    return (  # FTS5 hands its matches over newest first (no sort): reading stops at the cap
        f"SELECT d.id AS doc, -bm25({fts}) AS score, d.meeting_date AS day FROM {fts} "
        f"JOIN search_docs d ON d.id = {fts}.rowid "
        f"WHERE {' AND '.join([f'{fts} MATCH :q', *clauses])} ORDER BY {fts}.rowid DESC LIMIT :cap"
    )


def _page(session: Session, query: Query, newest: str, params: dict[str, Any]) -> Results:
    """The page of the ``newest`` matches (doc, score, day; one past ``RANKED`` when there are more),
    ranked in one statement; only the page's rows come back, with how many matches were found."""
    ranked = (  # the score cannot sit beside a window function (SQLite's bm25): one level each
        "SELECT doc, score, found FROM (SELECT doc, score, day, row_number() OVER (ORDER BY doc DESC) AS n, count(*) OVER () AS found "
        f"FROM ({newest}) a) b WHERE n <= :ranked ORDER BY score DESC, day DESC, doc LIMIT :limit OFFSET :offset"
    )
    rows = session.execute(text(ranked), params).all()
    if rows:
        found = int(rows[0][2])
    else:  # nothing, or nothing this far: count alone
        found = session.execute(text(f"SELECT count(*) FROM ({newest}) a"), params).scalar_one() if params["offset"] else 0
    return Results(min(found, RANKED), _hits(session, query, [(int(r[0]), float(r[1])) for r in rows]), found > RANKED)


def _newest_sqlite(session: Session, query: Query, params: dict[str, Any], limit: int, offset: int) -> Results:
    """Without filters: the newest matches and their scores from FTS5 alone, then as few rows as settle the order."""
    newest = session.execute(
        text("SELECT rowid, bm25(search_fts) FROM search_fts WHERE search_fts MATCH :q ORDER BY rowid DESC LIMIT :cap"), params
    ).all()
    best = sorted(((int(r[0]), float(r[1])) for r in newest[:RANKED]), key=lambda r: r[1])  # bm25: lower is better
    return Results(len(best), _settled(session, query, best, offset, offset + limit), len(newest) > RANKED)


def _days(session: Session, docs: list[int]) -> dict[int, str]:
    """The meeting date of each document that has a meeting."""
    found = session.execute(
        text(
            "SELECT d.id, d.meeting_date FROM search_docs d JOIN meetings m ON m.id = d.meeting_id "
            "WHERE d.id IN (SELECT value FROM json_each(:ids))"
        ),
        {"ids": json.dumps(docs)},
    ).all()
    return {int(r[0]): str(r[1]) for r in found}


def _settled(session: Session, query: Query, best: list[tuple[int, float]], offset: int, wanted: int) -> list[Hit]:
    """The page from these candidates (document, bm25; best first), reading only as many of their rows
    as settle the order (score, newer meeting, document; ties taken whole)."""
    ranks = [rank for _, rank in best]
    size = wanted
    while True:
        end = min(size, len(best))
        while end < len(best) and ranks[end] == ranks[end - 1]:
            end += 1  # a tie is taken whole: the order among equals is settled by the rows
        rank = dict(best[:end])
        ordered = sorted(_days(session, list(rank)).items(), key=lambda r: r[0])  # document, newer meeting, score (stable)
        ordered.sort(key=lambda r: r[1], reverse=True)
        ordered.sort(key=lambda r: rank[r[0]])
        # settled when every candidate was looked at, or the next one not taken scores strictly worse
        if end == len(best) or (len(ordered) >= wanted and rank[ordered[wanted - 1][0]] < ranks[end]):
            return _hits(session, query, [(r[0], -rank[r[0]]) for r in ordered[offset:wanted]])
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
    by_id = {int(r[-1]): r for r in rows}  # a document without its meeting (none should be) is left out, not a 500
    return [_hit((*by_id[doc][:-1], score), query) for doc, score in scored if doc in by_id]


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

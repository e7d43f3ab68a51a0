"""Search takes shortcuts (SQLite ranks the best matches without joining every hit; PostgreSQL scores
a stored vector in one pass): the hits must be exactly those of ranking every hit the plain way
(ties included, with filters, at any offset), and the total exact, on both engines, up to the
``RANKED`` newest matches that a search looks at."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text

from meeting_room.db import tables as t
from meeting_room.reads import search_index
from meeting_room.reads.search_index import Filters, search
from meeting_room.store import Store
from transcripts.search import parse_query
from transcripts.text import fold

SENTENCES = [  # few sentences, many times: large ties in bm25, as in a real archive's set phrases
    "Chủ tọa đề nghị các đại biểu biểu quyết dự toán ngân sách.",
    "Đại biểu Trường đề nghị bổ sung kinh phí cho trường học.",
    "Hội đồng thông qua kế hoạch với đa số phiếu tán thành.",
    "Sở Kế hoạch và Đầu tư báo cáo tiến độ giải ngân.",
    "Trường Sơn, Trường Sa: đại biểu phát biểu về kế hoạch biên giới.",
    "Thư ký ghi nhận ý kiến về ngân sách và kế hoạch.",
]
# filed outcomes: published, not yet published (``closed:``), both
OUTCOMES = [None, " passed ", " failed ", " closed:passed ", " closed:failed passed "]


def _archive(store: Store, meetings: int = 120, lines: int = 25, *, shuffled: bool = False) -> None:
    """Meetings every third day from 2020-01-01, indexed in date order (or, ``shuffled``, in any order)."""
    rng = random.Random(5)
    day0 = date(2020, 1, 1)
    order = list(range(meetings))
    if shuffled:
        random.Random(11).shuffle(order)
    with store.engine.begin() as conn:
        conn.execute(insert(t.Body), [{"id": "b1", "name": "HĐND", "short_name": "HĐND", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}])
        for index in order:
            meeting_id = f"m{index:04d}"
            moment = datetime.combine(day0 + timedelta(days=index * 3), datetime.min.time(), UTC)
            meeting = {"id": meeting_id, "body_id": "b1", "title": f"Phiên {index}", "starts_at": moment, "state": "archived",
                       "created_at": moment, "state_changed_at": moment, "last_seq": 0}  # fmt: skip
            conn.execute(insert(t.Meeting), [meeting])
            rows: list[dict[str, Any]] = []
            for n in range(lines):
                sentence = rng.choice(SENTENCES) + (" Trường." * rng.choice([0, 0, 0, 1, 2]))
                kind = "minutes" if n >= lines - 2 else "transcript"
                rows.append({"meeting_id": meeting_id, "body_id": "b1", "meeting_date": moment.date().isoformat(), "kind": kind,
                             "ref_id": f"{index}:{n}", "agenda_item_id": None, "agenda_title": None, "speaker": None,
                             "speaker_member_id": None, "poll_outcomes": rng.choice(OUTCOMES), "start_s": None,
                             "recording_id": None, "text": sentence, "folded": fold(sentence)})  # fmt: skip
            conn.execute(insert(t.SearchDoc), rows)


def _ranked_every_hit(store: Store, q: str, filters: Filters, limit: int, offset: int) -> tuple[int, list[tuple[str, float]]]:
    """The reference: every hit joined, scored and sorted (what the search did before it took shortcuts),
    from the index those filters search (the minutes' own for the minutes only)."""
    params: dict[str, Any] = {"q": parse_query(q).fts5(), "limit": limit, "offset": offset}
    fts = search_index.fts_table(filters)
    where = " AND ".join([f"{fts} MATCH :q", *search_index._where(filters, params, postgresql=False)])
    source = f"{fts} JOIN search_docs d ON d.id = {fts}.rowid"
    with store.read() as session:
        total: int = session.execute(text(f"SELECT count(*) FROM {source} WHERE {where}"), params).scalar_one()
        rows = session.execute(
            text(
                f"SELECT d.ref_id, -bm25({fts}) AS score FROM {source} WHERE {where} "
                "ORDER BY score DESC, d.meeting_date DESC, d.id LIMIT :limit OFFSET :offset"
            ),
            params,
        ).all()
    return total, [(r[0], round(float(r[1]), 6)) for r in rows]


# SQLite reads the rows of the best matches a slice at a time (the page, then 4 times as many, ties
# taken whole) until they settle the order: large ties and offsets make the slices grow
def test_the_best_matches_alone_give_the_hits_of_ranking_every_hit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _archive(store)
    monkeypatch.setattr(search_index, "RANKED", 100_000)  # every match (the newest-only rule: the last test)
    filter_sets = [
        Filters(),
        Filters(date_from="2020-03-01", date_to="2020-08-31", poll_outcome="passed"),
        Filters(date_from="2020-05-01", date_to="2020-05-03"),
        Filters(kind="minutes"),
        Filters(meeting_ids=frozenset(f"m{i:04d}" for i in range(0, 120, 9))),
    ]
    for q in ["truong", "ke hoach", '"ke hoach"', "dai bieu de nghi", "ngan sach", "bien gioi", "khong co"]:
        for filters in filter_sets:
            for limit, offset in ((20, 0), (5, 30), (100, 0)):
                total, expected = _ranked_every_hit(store, q, filters, limit, offset)
                with store.read() as session:
                    found = search(session, parse_query(q), filters, limit=limit, offset=offset)
                assert [(h.ref_id, h.score) for h in found.hits] == expected, (q, filters, limit, offset)
                assert found.total == total, (q, filters, limit, offset)


def test_a_search_of_the_minutes_finds_every_minutes_section_and_nothing_else(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite searches the minutes through their own index: it holds exactly the minutes (the same
    documents as the whole archive's index with the minutes kept), through inserts, deletes and a
    document changing kind, and so gives every minutes section with the word, however many lines have it."""
    _archive(store, meetings=40)
    monkeypatch.setattr(search_index, "RANKED", 100_000)

    def both_ways(q: str) -> tuple[list[str], list[str]]:
        with store.read() as session:
            found = search(session, parse_query(q), Filters(kind="minutes"), limit=100_000)
            plain = text(
                "SELECT d.ref_id FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid "
                "WHERE search_fts MATCH :q AND d.kind = 'minutes' ORDER BY d.ref_id"
            )
            every: list[str] = list(session.execute(plain, {"q": parse_query(q).fts5()}).scalars())
        return sorted(h.ref_id for h in found.hits), every

    for q in ["truong", '"ke hoach"', "bien gioi"]:
        found, every = both_ways(q)
        assert found == every and every, q
    with store.engine.begin() as conn:  # a minutes section goes, one becomes a line, a line becomes minutes
        gone, moved = conn.execute(text("SELECT min(id), max(id) FROM search_docs WHERE kind = 'minutes'")).one()
        conn.execute(text("DELETE FROM search_docs WHERE id = :i"), {"i": gone})
        conn.execute(text("UPDATE search_docs SET kind = 'transcript' WHERE id = :i"), {"i": moved})
        conn.execute(text("UPDATE search_docs SET kind = 'minutes', folded = 'truong moi' WHERE id = (SELECT min(id) FROM search_docs)"))
    found, every = both_ways("truong")
    assert found == every and "0:0" in found
    with store.read() as session:
        indexed: int = session.execute(text("SELECT count(*) FROM search_fts_minutes_docsize")).scalar_one()  # the index's own rows
        minutes: int = session.execute(text("SELECT count(*) FROM search_docs WHERE kind = 'minutes'")).scalar_one()
    assert indexed == minutes == 40 * 2 - 1


def test_a_date_range_finds_meetings_indexed_out_of_date_order(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite reads the matches of the span of ids that the dates' documents take: exact whatever order
    the meetings were indexed in (an old meeting imported last)."""
    _archive(store, shuffled=True)
    monkeypatch.setattr(search_index, "RANKED", 100_000)
    for q in ["truong", '"ke hoach"', "bien gioi"]:
        dates = [("2020-03-01", "2020-04-30"), ("2020-06-01", None), (None, "2020-01-09"), ("2031-01-01", None)]
        for filters in (Filters(date_from=start, date_to=end) for start, end in dates):
            total, expected = _ranked_every_hit(store, q, filters, 20, 0)
            with store.read() as session:
                found = search(session, parse_query(q), filters, limit=20)
            assert [(h.ref_id, h.score) for h in found.hits] == expected and found.total == total, (q, filters)
            assert total > 0 or filters.date_from == "2031-01-01"


def test_a_readers_meetings_and_minutes_narrow_the_hits_on_both_engines(any_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The meetings a reader may see and the minutes they may read go to the database as one array
    (PostgreSQL) or JSON (SQLite) parameter: the hits are those of the whole archive with the others
    left out, checked here in Python, not with the same SQL; none at all gives nothing."""
    _archive(any_store, meetings=60)
    monkeypatch.setattr(search_index, "RANKED", 100_000)
    seen = frozenset(f"m{i:04d}" for i in range(0, 60, 7))
    readable = frozenset(f"m{i:04d}" for i in range(0, 60, 14))
    left_out = 0
    for q in ["truong", '"ke hoach"']:
        with any_store.read() as session:
            every = search(session, parse_query(q), Filters(), limit=100_000).hits
        every_by_ref = {h.ref_id: h.meeting_id for h in every}
        for meetings, minutes in ((seen, None), (None, readable), (seen, readable), (frozenset(), None), (None, frozenset())):
            expected = [h.ref_id for h in every if (meetings is None or h.meeting_id in meetings)
                        and (minutes is None or h.kind != "minutes" or h.meeting_id in minutes)]  # fmt: skip
            with any_store.read() as session:
                found = search(session, parse_query(q), Filters(meeting_ids=meetings, minutes_of=minutes), limit=100_000)
            assert [h.ref_id for h in found.hits] == expected and found.total == len(expected), (q, meetings, minutes)
            assert expected or meetings == frozenset() or minutes == frozenset()
            # a result not yet published counts for the outcome filter only where the reader reads the minutes
            with any_store.read() as session:
                filed: dict[str, str | None] = {r[0]: r[1] for r in session.execute(text("SELECT ref_id, poll_outcomes FROM search_docs"))}
                found = search(
                    session, parse_query(q), Filters(meeting_ids=meetings, minutes_of=minutes, poll_outcome="passed"), limit=100_000
                )
            hidden = [r for r in expected if " closed:passed " in (filed[r] or "") and " passed " not in (filed[r] or "")]
            passed = [r for r in expected if " passed " in (filed[r] or "") or " closed:passed " in (filed[r] or "")]
            shown = [r for r in passed if minutes is None or r not in hidden or every_by_ref[r] in minutes]
            assert [h.ref_id for h in found.hits] == shown and found.total == len(shown), (q, meetings, minutes)
            left_out += len(passed) - len(shown)
    assert left_out > 0  # the archive holds unpublished results outside the readable minutes


def _ranked_every_hit_postgresql(store: Store, q: str, filters: Filters, limit: int, offset: int) -> tuple[int, list[tuple[str, float]]]:
    """The reference on PostgreSQL: every hit's text parsed again, scored and sorted (the search before the stored vector)."""
    params: dict[str, Any] = {"q": parse_query(q).tsquery(), "limit": limit, "offset": offset}
    where = " AND ".join(["to_tsvector('simple', d.folded) @@ q", *search_index._where(filters, params, postgresql=True)])
    source = "search_docs d CROSS JOIN to_tsquery('simple', :q) q"
    with store.read() as session:
        total: int = session.execute(text(f"SELECT count(*) FROM {source} WHERE {where}"), params).scalar_one()
        rows = session.execute(
            text(
                f"SELECT d.ref_id, ts_rank_cd(to_tsvector('simple', d.folded), q) AS score FROM {source} WHERE {where} "
                "ORDER BY score DESC, d.meeting_date DESC, d.id LIMIT :limit OFFSET :offset"
            ),
            params,
        ).all()
    return total, [(r[0], round(float(r[1]), 6)) for r in rows]


def test_postgresql_ranks_as_it_did_before_the_stored_vector(any_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the stored, indexed vector gives the hits and totals of parsing every hit's text;
    on SQLite the same archive and queries give the hits of ranking every hit."""
    _archive(any_store, meetings=60)
    monkeypatch.setattr(search_index, "RANKED", 100_000)
    postgresql = any_store.engine.dialect.name == "postgresql"
    reference = _ranked_every_hit_postgresql if postgresql else _ranked_every_hit
    for q in ["truong", '"ke hoach"', "dai bieu de nghi", "khong co"]:
        for filters in (Filters(), Filters(date_from="2020-03-01", date_to="2020-08-31", poll_outcome="passed"), Filters(kind="minutes")):
            for limit, offset in ((20, 0), (5, 30), (10, 5000)):
                total, expected = reference(any_store, q, filters, limit, offset)
                with any_store.read() as session:
                    found = search(session, parse_query(q), filters, limit=limit, offset=offset)
                assert [(h.ref_id, h.score) for h in found.hits] == expected, (q, filters, limit, offset)
                assert found.total == total, (q, filters, limit, offset)
    if postgresql:  # the stored vector is what the index covers: kept in step with the text
        with any_store.engine.begin() as conn:
            conn.execute(text("UPDATE search_docs SET folded = 'mot cau moi' WHERE id = (SELECT min(id) FROM search_docs)"))
        with any_store.read() as session:
            assert search(session, parse_query('"cau moi"')).total == 1


def test_a_word_found_nearly_everywhere_is_ranked_among_its_newest_matches(any_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond ``RANKED`` matches a search looks at the newest ``RANKED`` only (scoring 100,000 hits of a
    common word was what made it slow): its hits are those of ranking exactly those, its total says
    "more than", and both engines agree; at or under the cap nothing changes."""
    _archive(any_store, meetings=60)
    postgresql = any_store.engine.dialect.name == "postgresql"
    reference = _ranked_every_hit_postgresql if postgresql else _ranked_every_hit
    vector = (
        "to_tsvector('simple', d.folded) @@ to_tsquery('simple', :q)"
        if postgresql
        else "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :q)"
    )
    monkeypatch.setattr(search_index, "RANKED", 40)
    monkeypatch.setattr(search_index, "PG_FIRST_SPAN", 50)  # PostgreSQL looks back 50 documents, then 400, then all
    for q in ["truong", '"ke hoach"', "bien gioi"]:
        for filters in (Filters(), Filters(date_from="2020-03-01", date_to="2020-08-31", poll_outcome="passed")):
            params: dict[str, Any] = {"q": parse_query(q).tsquery() if postgresql else parse_query(q).fts5()}
            where = " AND ".join([vector, *search_index._where(filters, params, postgresql=postgresql)])
            with any_store.read() as session:
                newest_first = text(f"SELECT d.id FROM search_docs d WHERE {where} ORDER BY d.id DESC")
                ids: list[int] = list(session.execute(newest_first, params).scalars())
            newest = Filters(**{**filters.__dict__, "meeting_ids": None})  # the same filters, and only the 40 newest matches
            for limit, offset in ((20, 0), (5, 30), (10, 45)):
                with any_store.read() as session:
                    found = search(session, parse_query(q), filters, limit=limit, offset=offset)
                with monkeypatch.context() as only:
                    only.setattr(search_index, "_where", _only(search_index._where, ids[:40]))
                    _, expected = reference(any_store, q, newest, limit, offset)
                assert len(ids) > 40 or q == "bien gioi", (q, filters, len(ids))
                assert (found.total, found.more) == (min(len(ids), 40), len(ids) > 40), (q, filters)
                assert [(h.ref_id, h.score) for h in found.hits] == expected, (q, filters, limit, offset)


def _only(where: Any, ids: list[int]) -> Any:
    """``_where`` that also keeps only these documents (the reference's view of the newest matches)."""

    def restricted(filters: Filters, params: dict[str, Any], *, postgresql: bool) -> list[str]:
        keep = ", ".join(str(int(i)) for i in ids) or "NULL"
        return [*where(filters, params, postgresql=postgresql), f"d.id IN ({keep})"]

    return restricted

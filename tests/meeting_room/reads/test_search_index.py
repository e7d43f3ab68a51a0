"""The search index on both engines: the same documents, the same query, the same hits."""

from __future__ import annotations

from meeting_room.services import transcripts
from speech.transcript import Segment
from tests.conftest import World


def test_search_index_on_postgresql_and_sqlite(any_world: World) -> None:
    """The same documents, the same query, the same hits on both engines; rebuild recreates the index."""
    from meeting_room.reads.search_index import Filters, search
    from transcripts.search import parse_query

    store = any_world.store
    pass_id = transcripts.new_pass(store, any_world.meeting_id, "final", "whisper-base")
    transcripts.add_segment(
        store, any_world.meeting_id, pass_id, Segment(1.0, 3.0, "Đề nghị Sở Xây dựng báo cáo tiến độ đường Trường Sơn."), None
    )
    transcripts.add_segment(store, any_world.meeting_id, pass_id, Segment(4.0, 6.0, "Tiến độ chậm do giải phóng mặt bằng."), None)
    transcripts.end_pass(store, any_world.meeting_id, pass_id, "completed", audio_s=6.0)
    for _ in range(2):
        with store.read() as session:
            found = search(session, parse_query("duong truong son"), Filters())
            phrase = search(session, parse_query('"tien do cham"'), Filters())
            nothing = search(session, parse_query("truong"), Filters(body_id="another"))
        assert found.total == 1 and "<mark>đường Trường Sơn</mark>" in found.hits[0].snippet_html
        assert phrase.total == 1 and phrase.hits[0].start_s == 4.0 and nothing.total == 0
        store.rebuild()
    if store.engine.dialect.name == "postgresql":  # the planner is told pages are in memory, for the search's transaction only
        from sqlalchemy import text
        from sqlalchemy.orm import Session

        from meeting_room.reads.search_index import PG_RANDOM_PAGE_COST

        with store.engine.connect() as conn:  # one connection throughout: what the pool would hand on
            before = conn.scalar(text("SHOW random_page_cost"))
            conn.commit()
            with Session(bind=conn) as session:
                search(session, parse_query("truong"), Filters())
                assert session.scalar(text("SHOW random_page_cost")) == str(PG_RANDOM_PAGE_COST)
                session.commit()  # a commit keeps a plain SET; SET LOCAL ends with the transaction
            assert conn.scalar(text("SHOW random_page_cost")) == before


def test_a_document_keeps_its_id_when_its_meeting_is_indexed_again(any_world: World) -> None:
    """A search looks at the newest ids first: a meeting indexed again (an agenda title, a relabel, a
    vote's outcome) must not make its unchanged lines look new (found in review)."""
    from sqlalchemy import select

    from meeting_room import events as ev
    from meeting_room.db import tables as t
    from meeting_room.services import agenda

    store = any_world.store
    pass_id = transcripts.new_pass(store, any_world.meeting_id, "final", "whisper-base")
    transcripts.add_segment(store, any_world.meeting_id, pass_id, Segment(1.0, 3.0, "Khai mạc kỳ họp thứ mười."), None)
    transcripts.add_segment(store, any_world.meeting_id, pass_id, Segment(4.0, 6.0, "Thông qua chương trình."), None)
    transcripts.end_pass(store, any_world.meeting_id, pass_id, "completed", audio_s=6.0)

    def ids() -> dict[str, int]:  # the transcript's lines
        with store.read() as session:
            return {r.text: r.id for r in session.execute(select(t.SearchDoc.text, t.SearchDoc.id).where(t.SearchDoc.kind == "transcript"))}

    def agenda_docs() -> dict[str, tuple[int, str]]:
        with store.read() as session:
            query = select(t.SearchDoc.ref_id, t.SearchDoc.id, t.SearchDoc.text).where(t.SearchDoc.kind == "agenda")
            return {r.ref_id: (r.id, r.text) for r in session.execute(query)}

    before, items_before = ids(), agenda_docs()
    assert set(before) == {"Khai mạc kỳ họp thứ mười.", "Thông qua chương trình."}
    assert set(items_before) == set(any_world.item_ids)
    item = ev.AgendaItemUpdated(meeting_id=any_world.meeting_id, item_id=any_world.item_ids[0], title="Khai mạc kỳ họp")
    agenda.update_item(store, any_world.actor("admin"), item)  # re-indexes the meeting
    assert ids() == before  # the same lines, the same ids
    renamed = agenda_docs()[any_world.item_ids[0]]  # the item's own document: its new words, its old id
    assert renamed[0] == items_before[any_world.item_ids[0]][0] and renamed[1].startswith("Khai mạc kỳ họp")
    with store.read() as session:
        assert session.scalar(select(t.SearchDoc.agenda_title).where(t.SearchDoc.id == before["Khai mạc kỳ họp thứ mười."])) in (
            "Khai mạc kỳ họp",
            None,
        )

"""Search through the API: words without diacritics, phrases, filters, minutes, and only meetings one may see."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, login
from tests.meeting_room.api.held_meeting import hold_meeting
from tests.meeting_room.db.test_migrations import search_docs_filed


def test_archive_search_is_diacritics_insensitive_with_filters(mclient: TestClient, mworld: World) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    hold_meeting(client, world)
    clerk = login(client, "clerk")
    r = client.get("/api/search", params={"q": "bieu quyet du toan", "kind": "transcript"}, headers=clerk).json()
    assert r["total"] >= 1
    hit = r["hits"][0]
    assert set(hit) == {"meeting_id", "meeting_title", "meeting_date", "kind", "agenda_item_id", "agenda_title", "speaker", "start_s",
                        "snippet_html", "link", "score"}  # fmt: skip
    assert hit["meeting_id"] == world.meeting_id and hit["kind"] == "transcript" and hit["meeting_title"] and hit["score"] > 0
    assert hit["speaker"] == "Người member1" and hit["agenda_title"] == "Biểu quyết dự toán ngân sách" and hit["start_s"] == 600.0
    assert "<mark>biểu quyết</mark>" in hit["snippet_html"] or "<mark>biểu</mark>" in hit["snippet_html"]
    assert hit["link"] == f"{url}/transcript"  # no recording uploaded: the transcript
    # the agenda item and the vote are found by their words too, each linking to itself
    on_agenda = client.get("/api/search", params={"q": "bieu quyet du toan"}, headers=clerk).json()["hits"]
    assert [(h["kind"], h["agenda_title"], h["link"]) for h in on_agenda if h["kind"] != "transcript"] == [
        ("agenda", "Biểu quyết dự toán ngân sách", url)
    ]
    (vote,) = client.get("/api/search", params={"q": "thong qua du toan 2027"}, headers=clerk).json()["hits"]
    (poll,) = client.get(f"{url}/polls", headers=clerk).json()
    assert vote["kind"] == "poll" and vote["link"] == f"{url}/polls/{poll['id']}" and vote["agenda_title"] == "Biểu quyết dự toán ngân sách"
    assert vote["snippet_html"] == "<mark>Thông</mark> <mark>qua</mark> <mark>dự</mark> <mark>toán</mark> ngân sách <mark>2027</mark>"
    assert client.get("/api/search", params={"q": "thong qua", "kind": "poll"}, headers=login(client, "outsider")).json()["total"] == 0
    phrase = client.get("/api/search", params={"q": '"khai mac phien hop"'}, headers=clerk).json()
    assert [h["speaker"] for h in phrase["hits"]] == ["Người chair"]
    assert client.get("/api/search", params={"q": '"mac khai"'}, headers=clerk).json()["total"] == 0  # word order matters in a phrase
    by_speaker = client.get("/api/search", params={"q": "toi", "speaker": world.ids["chair"]}, headers=clerk).json()
    assert by_speaker["total"] == 1 and by_speaker["hits"][0]["speaker"] == "Người chair"
    passed = client.get("/api/search", params={"q": "toi", "poll_outcome": "passed"}, headers=clerk).json()
    assert [h["speaker"] for h in passed["hits"]] == ["Người member1"]
    assert client.get("/api/search", params={"q": "toi", "poll_outcome": "failed"}, headers=clerk).json()["total"] == 0
    # A result the chair has not published is its officers' (and the record keepers'): a member learns
    # nothing of it by filtering, not even by a filter that finds nothing; once published, everyone may.
    member1, chair = login(client, "member1"), login(client, "chair")
    outcome = {"q": "toi", "poll_outcome": "passed"}
    assert client.get("/api/search", params=outcome, headers=member1).json()["total"] == 0
    assert client.get("/api/search", params={**outcome, "poll_outcome": "failed"}, headers=member1).json()["total"] == 0
    assert client.get("/api/search", params=outcome, headers=chair).json()["total"] == 1
    (poll,) = client.get(f"{url}/polls", headers=chair).json()
    assert client.post(f"{url}/polls/{poll['id']}/publish", headers=chair).status_code == 200
    assert [h["speaker"] for h in client.get("/api/search", params=outcome, headers=member1).json()["hits"]] == ["Người member1"]
    assert client.get("/api/search", params=outcome, headers=clerk).json()["total"] == 1
    assert client.get("/api/search", params={"q": "toi", "date_to": "2000-01-01"}, headers=clerk).json()["total"] == 0
    assert client.get("/api/search", params={"q": "toi", "agenda_item_id": world.item_ids[0]}, headers=clerk).json()["total"] == 1

    sec = login(client, "secretary")
    client.put(
        f"{url}/minutes", json={"sections": {world.item_ids[0]: "Đồng chí Trường kết luận: giao Sở Tài chính rà soát."}}, headers=sec
    )
    minutes_hits = client.get("/api/search", params={"q": "TRUONG ket luan", "kind": "minutes"}, headers=clerk).json()
    assert minutes_hits["total"] == 1 and minutes_hits["hits"][0]["link"] == f"{url}/minutes"
    assert "<mark>Trường kết luận</mark>" in minutes_hits["hits"][0]["snippet_html"]
    # An unsigned draft is read by its officers and the record keepers only, in search as in the minutes
    draft = {"q": "TRUONG ket luan"}
    assert client.get("/api/search", params=draft, headers=sec).json()["total"] == 1
    assert client.get("/api/search", params=draft, headers=login(client, "member1")).json()["total"] == 0
    assert client.get(f"{url}/minutes", headers=login(client, "member1")).status_code == 403

    assert client.get("/api/search", params={"q": "toi"}, headers=login(client, "outsider")).json()["total"] == 0
    assert client.get("/api/search", params={"q": "toi"}, headers=login(client, "member1")).json()["total"] >= 2
    bad = client.get("/api/search", params={"q": '"chua dong'}, headers=clerk)
    assert bad.status_code == 422 and "ngoặc kép" in bad.json()["error"]["message"]
    assert client.get("/api/search", params={"q": "x", "date_from": "23/11/2026"}, headers=clerk).status_code == 422
    no_such_day = client.get("/api/search", params={"q": "x", "date_to": "2026-13-45"}, headers=clerk)  # the right shape, no such day
    assert no_such_day.status_code == 422 and "date_to" in no_such_day.text, no_such_day.text


def test_an_archive_indexed_before_is_given_its_agendas_and_votes_and_unpublished_outcomes_kept_apart(
    mclient: TestClient, mworld: World
) -> None:
    """Migration 0026 on an archive indexed before it: the outcomes already filed (of a vote closed but
    not published) become ``closed:…``, and the agenda items and votes are filed, exactly as the index
    now files them (a rebuild gives the same); a downgrade takes them back."""
    from alembic import command

    from meeting_room.db import migrate
    from meeting_room.db.engine import alembic_config

    client, world = mclient, mworld
    hold_meeting(client, world)
    engine = world.store.engine

    def filed() -> list[tuple[object, ...]]:
        return search_docs_filed(engine)

    now = filed()
    assert {(r[0], r[4], r[6]) for r in now} == {
        ("transcript", world.item_ids[0], None),
        ("transcript", world.item_ids[1], " closed:passed "),
        ("agenda", world.item_ids[0], None),
        ("agenda", world.item_ids[1], " closed:passed "),
        ("poll", world.item_ids[1], " closed:passed "),
    }
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0025")
    before = filed()  # as the index filed it before
    assert {r[0] for r in before} == {"transcript"} and {r[6] for r in before} == {None, " passed "}
    migrate(engine)
    assert filed() == now
    world.store.rebuild()
    assert filed() == now


def test_a_vote_cancelled_after_its_close_counts_nowhere(mclient: TestClient, mworld: World) -> None:
    """A vote closed and then cancelled keeps its count in its row, void: it is not in the minutes nor
    in the search (its question, its outcome), for its officers either (found in review)."""
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    chair = hold_meeting(client, world)
    clerk, secretary = login(client, "clerk"), login(client, "secretary")
    (poll,) = client.get(f"{url}/polls", headers=chair).json()

    def counted() -> tuple[int, int, int]:
        votes = client.get("/api/search", params={"q": "thong qua du toan", "kind": "poll"}, headers=clerk).json()["total"]
        passed = client.get("/api/search", params={"q": "toi", "poll_outcome": "passed"}, headers=clerk).json()["total"]
        minutes = client.get(f"{url}/minutes", headers=secretary).json()
        return votes, passed, sum(len(section["polls"]) for section in minutes["sections"])

    assert counted() == (1, 1, 1)
    r = client.post(f"{url}/polls/{poll['id']}/cancel", json={"reason": "Biểu quyết lại do sai sót"}, headers=chair)
    assert r.status_code == 200, r.text
    assert counted() == (0, 0, 0)

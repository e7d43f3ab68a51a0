"""Private notes on document pages: the writer reads them back; nobody else does, staff included,
and they are never part of the meeting's record (no event, nothing in the event feed)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, login, snapshot
from tests.meeting_room.api.test_documents import _upload, make_pdf

SECRET = "Hỏi lại số liệu chi thường xuyên ở trang này — chưa khớp với tờ trình năm trước."


def _notes_url(world: World, doc: dict[str, str]) -> str:
    return f"/api/meetings/{world.meeting_id}/documents/{doc['id']}/notes"


def test_a_note_is_its_writers_alone(client: TestClient, world: World) -> None:
    doc = _upload(client, world, login(client, "secretary"), make_pdf(3)).json()
    url = _notes_url(world, doc)
    member = login(client, "member1")
    before = snapshot(world.store)
    r = client.put(f"{url}/2", json={"text": f"  {SECRET}\n"}, headers=member)
    assert r.status_code == 200, r.text
    assert r.json()["text"] == SECRET and r.json()["page"] == 2 and r.json()["updated_at"]
    assert snapshot(world.store) == before  # no event: the note is not part of the record
    assert client.get(f"{url}/2", headers=member).json()["text"] == SECRET
    assert [(n["page"], n["text"]) for n in client.get(url, headers=member).json()] == [(2, SECRET)]
    # everyone else, those who run the meeting and the administrator included, sees no note at all
    for other in ("member2", "chair", "secretary", "clerk", "admin"):
        headers = login(client, other)
        assert client.get(url, headers=headers).json() == [], other
        assert client.get(f"{url}/2", headers=headers).json() == {"page": 2, "text": "", "updated_at": None}, other
    assert client.get(url, headers=login(client, "outsider")).status_code == 404
    assert client.get(url).status_code == 401
    # nor does it travel with the meeting's events (what exports and the record are made of)
    events = client.get(f"/api/meetings/{world.meeting_id}/events", headers=login(client, "admin"))
    assert events.status_code == 200 and SECRET not in events.text and "notes" not in events.text
    # another person's note on the same page is theirs: the first stays as it was
    chair = login(client, "chair")
    assert client.put(f"{url}/2", json={"text": "Ghi chú của chủ tọa"}, headers=chair).status_code == 200
    assert client.get(f"{url}/2", headers=member).json()["text"] == SECRET
    assert client.get(f"{url}/2", headers=chair).json()["text"] == "Ghi chú của chủ tọa"


def test_an_empty_note_removes_it_and_pages_are_checked(client: TestClient, world: World) -> None:
    doc = _upload(client, world, login(client, "secretary"), make_pdf(3)).json()
    url = _notes_url(world, doc)
    member = login(client, "member1")
    assert client.put(f"{url}/1", json={"text": "Trang bìa"}, headers=member).status_code == 200
    assert client.put(f"{url}/3", json={"text": "Phụ lục"}, headers=member).status_code == 200
    assert client.put(f"{url}/1", json={"text": "   "}, headers=member).json() == {"page": 1, "text": "", "updated_at": None}
    assert [n["page"] for n in client.get(url, headers=member).json()] == [3]
    bad = client.put(f"{url}/4", json={"text": "x"}, headers=member)
    assert bad.status_code == 422 and "3 trang" in bad.json()["error"]["message"] and bad.json()["error"]["details"]["allowed"] == "1..3"
    assert client.put(f"{url}/0", json={"text": "x"}, headers=member).status_code == 422
    assert client.put(f"{url}/2", json={"text": "x" * 20_001}, headers=member).status_code == 422
    assert client.put(f"{url}/2", json={"text": "a\x00b"}, headers=member).status_code == 422
    lone = client.put(f"{url}/2", content='{"text": "a\\ud800b"}', headers={**member, "content-type": "application/json"})
    assert lone.status_code == 422, lone.text  # a lone surrogate no store can hold: refused, not a 500
    other_doc = f"/api/meetings/{world.meeting_id}/documents/nope/notes"
    assert client.get(other_doc, headers=member).status_code == 404


def test_notes_outlive_a_rebuild_of_the_read_models(client: TestClient, world: World) -> None:
    """Notes are not derived from events: rebuilding the read models keeps them."""
    doc = _upload(client, world, login(client, "secretary"), make_pdf(2)).json()
    member = login(client, "member1")
    assert client.put(f"{_notes_url(world, doc)}/1", json={"text": SECRET}, headers=member).status_code == 200
    world.store.rebuild()
    assert client.get(f"{_notes_url(world, doc)}/1", headers=member).json()["text"] == SECRET


def test_one_persons_notes_on_a_document_have_a_total_cap(client: TestClient, world: World, monkeypatch) -> None:
    """Every page's note within its limit cannot add up past the document's: a hostile member with a
    10,000-page PDF would otherwise fill the disk 20,000 characters a page. What was stored stays."""
    from meeting_room.services import notes

    monkeypatch.setattr(notes, "MAX_DOCUMENT_CHARS", 25)  # the rule, at a size a test writes quickly
    doc = _upload(client, world, login(client, "secretary"), make_pdf(3)).json()
    url = _notes_url(world, doc)
    member = login(client, "member1")
    assert client.put(f"{url}/1", json={"text": "a" * 10}, headers=member).status_code == 200
    assert client.put(f"{url}/2", json={"text": "b" * 10}, headers=member).status_code == 200
    over = client.put(f"{url}/3", json={"text": "c" * 6}, headers=member)
    assert over.status_code == 422 and over.json()["error"]["details"]["allowed"] == 5, over.text
    assert "còn ghi được 5 ký tự" in over.json()["error"]["message"]
    assert client.put(f"{url}/3", json={"text": "c" * 5}, headers=member).status_code == 200
    assert client.put(f"{url}/1", json={"text": "a" * 10}, headers=member).status_code == 200  # a page rewritten counts once
    assert [len(n["text"]) for n in client.get(url, headers=member).json()] == [10, 10, 5]
    monkeypatch.setattr(notes, "MAX_DOCUMENT_CHARS", 10)  # the cap lowered under what is stored (an upgrade, say)
    assert client.put(f"{url}/3", json={"text": "c" * 6}, headers=member).status_code == 422  # no growing
    assert client.put(f"{url}/1", json={"text": "a" * 4}, headers=member).status_code == 200  # shortening, always
    assert client.put(f"{url}/2", json={"text": ""}, headers=member).status_code == 200  # removing, always
    assert client.put(f"{url}/1", json={"text": "ghi chú"}, headers=login(client, "member2")).status_code == 200  # each person's own

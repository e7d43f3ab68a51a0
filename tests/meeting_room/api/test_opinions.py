"""Opinions before the meeting (xin ý kiến): asked while scheduled with a deadline, answered and
changed by members, refused after the deadline, grouped for the secretary, and in the minutes."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient

from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError
from meeting_room.services import polls
from tests.conftest import World, login, snapshot
from tests.meeting_room.api.held_meeting import hold_meeting


def _ask(client: TestClient, world: World, headers: dict[str, str], **extra: object):
    with world.store.read() as session:
        starts = session.get_one(t.Meeting, world.meeting_id).starts_at
    body = {
        "title": "Dự thảo nghị quyết dự toán ngân sách 2027",
        "agenda_item_id": world.item_ids[1],
        "deadline": (starts - timedelta(hours=2)).isoformat(),
        "options": ["Đồng ý", "Không đồng ý"],
        **extra,
    }
    return client.post(f"/api/meetings/{world.meeting_id}/opinions", json=body, headers=headers)


def _answer(client: TestClient, world: World, poll_id: str, who: str, **body: object):
    return client.post(f"/api/meetings/{world.meeting_id}/polls/{poll_id}/ballots", json=body, headers=login(client, who))


def test_members_answer_and_change_until_the_deadline_and_the_secretary_sees_them_grouped(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    assert _ask(client, world, login(client, "member1")).status_code == 403
    r = _ask(client, world, sec)
    assert r.status_code == 201, r.text
    poll = r.json()
    assert (poll["state"], poll["kind"], poll["before_meeting"], poll["electorate"]["eligible"]) == ("open", "opinion", True, 4)

    r = _answer(client, world, poll["id"], "member1", options=["o1"], text="Đề nghị tăng chi cho giáo dục")
    assert r.status_code == 201 and r.json()["message"] == "Đã ghi nhận ý kiến"  # an opinion, not a ballot with a receipt
    assert _answer(client, world, poll["id"], "member2", text="Cần làm rõ nguồn thu").status_code == 201
    r = _answer(client, world, poll["id"], "member1", options=["o2"], text="Chưa đồng ý: thiếu thuyết minh")
    assert r.status_code == 201 and r.json()["replaced"] and r.json()["message_en"] == "Opinion changed"  # before the deadline
    assert _answer(client, world, poll["id"], "guest", text="Khách").status_code == 403  # guests are not asked
    # an answer the record could not hold is refused when it is given, not when the poll closes (an attacker's
    # probe: one member's NUL or bidi override made every close fail, and so the meeting's)
    before = snapshot(world.store)
    url, member2 = f"/api/meetings/{world.meeting_id}/polls/{poll['id']}/ballots", login(client, "member2")
    for bad in ("\u0000 nul", "ý kiến \u202e đảo chiều", "\ud800"):  # JSON escapes: a lone surrogate too
        r = client.post(url, content=json.dumps({"text": bad}), headers={**member2, "content-type": "application/json"})
        assert r.status_code == 422, (bad, r.text)
    assert snapshot(world.store) == before
    with world.store.read() as session:  # the service's own check, for a caller that is not the API
        assert session.get_one(t.Poll, poll["id"]).state == "open"
    try:
        polls.cast_ballot(world.store, world.actor("member2"), poll["id"], [], "\u0007 chuông")
        raise AssertionError("a control character was taken")
    except InvalidInputError as exc:
        assert exc.details["field"] == "text"

    assert client.get(f"/api/meetings/{world.meeting_id}/opinions/{poll['id']}", headers=login(client, "member1")).status_code == 403
    grouped = client.get(f"/api/meetings/{world.meeting_id}/opinions/{poll['id']}", headers=sec).json()
    assert grouped["answered"] == 2
    by_label = {g["label"]: g for g in grouped["groups"]}
    assert by_label["Đồng ý"]["count"] == 0
    assert by_label["Không đồng ý"]["opinions"] == [
        {"member_id": world.ids["member1"], "full_name": "Người member1", "text": "Chưa đồng ý: thiếu thuyết minh"}
    ]
    assert by_label["Ý kiến khác"]["opinions"][0]["text"] == "Cần làm rõ nguồn thu"
    # a vote is not an opinion request: its choices by name are not read here (its tally and ballots say what may be seen)
    motion = {"title": "Biểu quyết thông qua", "rule": {"preset": "hdnd_resolution"}}
    vote = client.post(f"/api/meetings/{world.meeting_id}/polls", json=motion, headers=sec)
    assert vote.status_code == 201, vote.text
    not_asked = client.get(f"/api/meetings/{world.meeting_id}/opinions/{vote.json()['id']}", headers=sec)
    assert not_asked.status_code == 404 and "biểu quyết" in not_asked.json()["error"]["message"], not_asked.text


def test_answers_after_the_deadline_are_refused_with_a_clear_error(client: TestClient, world: World) -> None:
    poll_id = _ask(client, world, login(client, "secretary"), options=[]).json()["id"]
    store = world.store
    later = store.now() + timedelta(days=1, hours=-1)  # past the deadline, before the timer closed it
    store._clock = lambda: later
    before = snapshot(store)
    r = _answer(client, world, poll_id, "member1", text="Muộn")
    error = r.json()["error"]
    assert r.status_code == 409 and "Đã hết hạn góp ý" in error["message"] and "deadline" in error["message_en"]
    assert snapshot(store) == before
    polls.close_poll(store, None, poll_id)  # the poll timer's close at the deadline
    r = _answer(client, world, poll_id, "member1", text="Muộn")
    assert r.status_code == 409 and "Đã hết hạn góp ý" in r.json()["error"]["message"]


def test_the_deadline_and_the_meeting_state_are_checked(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    before = snapshot(world.store)
    r = _ask(client, world, sec, deadline=(world.store.now() - timedelta(minutes=1)).isoformat())
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "deadline"
    r = _ask(client, world, sec, deadline=(world.store.now() + timedelta(days=3)).isoformat())  # after the meeting starts
    assert r.status_code == 422
    r = _ask(client, world, sec, document_id="khong-co")
    assert r.status_code == 404
    assert snapshot(world.store) == before
    chair = login(client, "chair")
    assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "open"}, headers=chair).status_code == 200
    r = _ask(client, world, sec)
    assert r.status_code == 409


def test_a_vote_opens_in_session_while_an_opinion_runs_to_its_deadline(client: TestClient, world: World) -> None:
    url = f"/api/meetings/{world.meeting_id}"
    assert _ask(client, world, login(client, "secretary")).status_code == 201
    chair = login(client, "chair")
    for target in ("open", "in_session"):
        assert client.post(f"{url}/transitions", json={"to": target}, headers=chair).status_code == 200
    assert client.put(f"{url}/attendance/{world.ids['member1']}", json={"status": "present_in_room"}, headers=chair).status_code == 200
    poll_id = client.post(f"{url}/polls", json={"title": "Thông qua chương trình"}, headers=chair).json()["id"]
    assert client.post(f"{url}/polls/{poll_id}/open", json={}, headers=chair).status_code == 200


def test_opinions_go_into_the_minutes_under_their_item(client: TestClient, world: World) -> None:
    poll_id = _ask(client, world, login(client, "secretary")).json()["id"]
    assert _answer(client, world, poll_id, "member1", options=["o1"], text="Đồng ý với dự thảo").status_code == 201
    assert _answer(client, world, poll_id, "member2", options=["o2"]).status_code == 201
    store = world.store
    later = store.now() + timedelta(days=1)
    store._clock = lambda: later
    polls.close_poll(store, None, poll_id)  # the deadline passed: the poll timer closed it
    hold_meeting(client, world)
    draft = client.get(f"/api/meetings/{world.meeting_id}/minutes", headers=login(client, "secretary")).json()
    opening, budget = draft["sections"]
    assert "Ý kiến góp ý trước cuộc họp về “Dự thảo nghị quyết dự toán ngân sách 2027” (2/4 thành viên):" in budget["text"]
    assert "Đồng ý: 1\n- Người member1: Đồng ý với dự thảo\nKhông đồng ý: 1" in budget["text"]
    assert "góp ý" not in opening["text"]
    assert [p["title"] for p in budget["polls"]] == ["Thông qua dự toán ngân sách 2027"]  # the opinion is not a vote table

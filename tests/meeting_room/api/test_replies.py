"""Replies to the invitation: answers and changes of mind, deputies as participants, the expected
quorum, and the refusal once the meeting has opened."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from meeting_room.roles import Role
from meeting_room.services import members
from tests.conftest import World, login, password_hash, snapshot


def _reply(client: TestClient, world: World, headers: dict[str, str], **body: object):
    return client.put(f"/api/meetings/{world.meeting_id}/reply", json=body, headers=headers)


def _replies(client: TestClient, world: World, headers: dict[str, str]) -> dict[str, Any]:
    r = client.get(f"/api/meetings/{world.meeting_id}/replies", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["full_name"]: r for r in body["replies"]}


def test_a_member_answers_and_changes_their_mind_until_the_meeting_opens(client: TestClient, world: World) -> None:
    m1 = login(client, "member1")
    mine = client.get(f"/api/meetings/{world.meeting_id}/reply", headers=m1).json()
    assert mine["reply"] is None and mine["answers"]["deputy"] == "Cử người dự thay"
    r = _reply(client, world, m1, answer="in_room")
    assert r.status_code == 200 and r.json()["reply"]["answer_label"] == "Dự họp tại phòng họp"
    r = _reply(client, world, m1, answer="online")
    assert r.json()["reply"]["answer"] == "online"
    before = snapshot(world.store)
    r = _reply(client, world, m1, answer="absent")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "reason"
    r = _reply(client, world, m1, answer="online", deputy_name="Ông Khách")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "answer"
    assert snapshot(world.store) == before
    r = _reply(client, world, m1, answer="absent", reason="Đi công tác tại Hà Nội")
    assert r.json()["reply"]["reason"] == "Đi công tác tại Hà Nội"

    chair = login(client, "chair")
    assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "open"}, headers=chair).status_code == 200
    before = snapshot(world.store)
    r = _reply(client, world, m1, answer="in_room")
    error = r.json()["error"]
    assert r.status_code == 409 and "không thể trả lời hay đổi trả lời" in error["message"] and error["details"]["state"] == "open"
    assert "can no longer be answered" in error["message_en"]
    assert snapshot(world.store) == before


def test_a_deputy_from_the_body_appears_as_a_participant_and_leaves_when_the_reply_changes(client: TestClient, world: World) -> None:
    admin = world.actor("admin")
    deputy = members.create_member(
        world.store,
        admin,
        full_name="Phó phòng Dự Thay",
        roles=[Role.MEMBER],
        body_id=world.body_id,
        username="duthay",
        password_hash=password_hash(),
    )
    m2 = login(client, "member2")
    before = snapshot(world.store)
    r = _reply(client, world, m2, answer="deputy", deputy_member_id=world.ids["outsider"])  # not of this body
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "deputy_member_id"
    r = _reply(client, world, m2, answer="deputy", deputy_member_id=world.ids["member1"])  # already invited
    assert r.status_code == 422 and "đã có trong danh sách" in r.json()["error"]["message"]
    assert snapshot(world.store) == before

    r = _reply(client, world, m2, answer="deputy", deputy_member_id=deputy)
    assert r.status_code == 200 and r.json()["reply"]["deputy_name"] == "Phó phòng Dự Thay"
    sec = login(client, "secretary")
    rows = _by_name(_replies(client, world, sec))
    assert rows["Phó phòng Dự Thay"]["role"] == "guest" and rows["Phó phòng Dự Thay"]["represents_name"] == "Người member2"
    assert rows["Người member2"]["answer"] == "deputy" and rows["Người member2"]["deputy_id"] == deputy
    people = client.get(f"/api/meetings/{world.meeting_id}/attendance", headers=sec).json()["records"]
    assert deputy in {p["member_id"] for p in people}  # a participant of this meeting

    again = snapshot(world.store)
    assert _reply(client, world, m2, answer="deputy", deputy_member_id=deputy).status_code == 200
    assert snapshot(world.store)[0] == again[0] + 1  # the same deputy again: only the reply is written

    r = _reply(client, world, m2, answer="deputy", deputy_name="Bà Nguyễn Thị Khách", deputy_title="Chuyên viên")
    assert r.status_code == 200
    rows = _by_name(_replies(client, world, sec))
    assert "Phó phòng Dự Thay" not in rows  # the first deputy stood down
    assert rows["Bà Nguyễn Thị Khách"]["role"] == "guest" and rows["Bà Nguyễn Thị Khách"]["title"] == "Chuyên viên"
    guest_id = rows["Bà Nguyễn Thị Khách"]["member_id"]

    deputy_login = login(client, "guest")  # a deputy (or a guest) has no invitation of its own to send a deputy for
    r = _reply(client, world, deputy_login, answer="deputy", deputy_name="Người Khác")
    assert r.status_code == 422

    assert _reply(client, world, m2, answer="in_room").status_code == 200
    rows = _by_name(_replies(client, world, sec))
    assert "Bà Nguyễn Thị Khách" not in rows and rows["Người member2"]["deputy_id"] is None
    people = client.get(f"/api/meetings/{world.meeting_id}/attendance", headers=sec).json()["records"]
    assert guest_id not in {p["member_id"] for p in people}


def test_the_expected_quorum_follows_the_replies_with_the_attendance_rule(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    body = _replies(client, world, sec)
    assert body["expected"] == {
        "voting": 4,
        "attending": 0,
        "in_room": 0,
        "online": 0,
        "absent": 0,
        "deputies": 0,
        "not_replied": 4,
        "quorum_needed": 3,  # two thirds of 4, as the attendance counts it
        "quorum_expected": False,
    }
    _reply(client, world, login(client, "chair"), answer="in_room")
    _reply(client, world, sec, answer="online")
    _reply(client, world, login(client, "member2"), answer="deputy", deputy_name="Ông Đại Diện")
    _reply(client, world, login(client, "guest"), answer="in_room")  # guests do not count towards the quorum
    expected = _replies(client, world, sec)["expected"]
    assert (expected["attending"], expected["deputies"], expected["not_replied"], expected["quorum_expected"]) == (2, 1, 1, False)
    _reply(client, world, login(client, "member1"), answer="in_room")
    assert _replies(client, world, sec)["expected"]["quorum_expected"] is True


def test_only_those_who_prepare_the_meeting_see_everyones_replies(client: TestClient, world: World) -> None:
    r = client.get(f"/api/meetings/{world.meeting_id}/replies", headers=login(client, "member1"))
    assert r.status_code == 403
    assert client.get(f"/api/meetings/{world.meeting_id}/replies", headers=login(client, "clerk")).status_code == 200
    r = _reply(client, world, login(client, "outsider"), answer="in_room")
    assert r.status_code == 404  # not a participant: the meeting is not theirs to see


def test_a_reason_for_absence_reaches_only_the_officers_through_the_event_feed(client: TestClient, world: World) -> None:
    reason = "Điều trị tại bệnh viện tỉnh"
    assert _reply(client, world, login(client, "member1"), answer="absent", reason=reason).status_code == 200

    def replied(who: str) -> dict[str, Any]:
        events = client.get(f"/api/meetings/{world.meeting_id}/events", headers=login(client, who)).json()["events"]
        data: dict[str, Any] = next(e["data"] for e in events if e["type"] == "meeting.reply_given")
        return data

    assert replied("secretary")["reason"] == reason and replied("clerk")["answer"] == "absent"
    for other in ("member2", "guest"):
        assert replied(other) == {"meeting_id": world.meeting_id, "member_id": world.ids["member1"]}


def test_changed_replies_cannot_fill_the_member_list_with_guests(client: TestClient, world: World) -> None:
    """Each named guest deputy becomes a member record: one participant's replies bring in at most
    ``MAX_DEPUTIES`` for a meeting (found by an attacker's probe: a loop of replies made thousands)."""
    from meeting_room.services.replies import MAX_DEPUTIES

    m2 = login(client, "member2")
    for n in range(MAX_DEPUTIES):
        r = _reply(client, world, m2, answer="deputy", deputy_name=f"Khách thứ {n + 1}")
        assert r.status_code == 200, r.text
    before = snapshot(world.store)
    r = _reply(client, world, m2, answer="deputy", deputy_name="Khách thêm nữa")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert f"tối đa {MAX_DEPUTIES}" in error["message"] and "contact the meeting's secretary" in error["message_en"]
    assert snapshot(world.store) == before  # nothing stored
    assert _reply(client, world, m2, answer="in_room").status_code == 200  # any other answer still goes
    sec = login(client, "secretary")
    assert _by_name(_replies(client, world, sec))["Người member2"]["answer"] == "in_room"

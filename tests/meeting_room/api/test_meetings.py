"""Meetings over HTTP: scheduling, lifecycle, participants, roles, and bad input leaving the store unchanged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from meeting_room.errors import InvalidTransitionError
from meeting_room.lifecycle import MeetingState
from meeting_room.services import meetings
from tests.conftest import World, login, snapshot


def _go(client: TestClient, world: World, headers: dict[str, str], to: str):
    return client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": to}, headers=headers)


def test_schedule_invites_the_body_and_names_the_roles(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    starts = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    r = client.post(
        "/api/meetings",
        json={
            "body_id": world.body_id,
            "title": "Phiên họp chuyên đề",
            "starts_at": starts,
            "chair_id": world.ids["chair"],
            "secretary_id": world.ids["secretary"],
        },
        headers=chair,
    )
    assert r.status_code == 201, r.text
    meeting = r.json()
    assert (meeting["state"], meeting["state_label"], meeting["my_role"]) == ("scheduled", "Đã lên lịch", "chair")
    assert meeting["next_states"] == ["cancelled", "open"]
    people = client.get(f"/api/meetings/{meeting['id']}/participants", headers=chair).json()
    roles = {p["member_id"]: p["role"] for p in people}
    assert roles == {
        world.ids["chair"]: "chair",
        world.ids["secretary"]: "secretary",
        world.ids["member1"]: "member",
        world.ids["member2"]: "member",
    }


def test_title_is_normalised_to_nfc(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    decomposed = "Ho\u0323p ba\u0300n ke\u0302\u0301 hoa\u0323ch"  # NFD: "Họp bàn kế hoạch"
    r = client.patch(f"/api/meetings/{world.meeting_id}", json={"title": decomposed}, headers=chair)
    assert r.status_code == 200 and r.json()["title"] == "Họp bàn kế hoạch"


def test_the_whole_lifecycle(client: TestClient, world: World) -> None:
    chair, clerk = login(client, "chair"), login(client, "clerk")
    for to in ["open", "in_session", "adjourned", "in_session", "closed"]:
        r = _go(client, world, chair, to)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == to
    assert _go(client, world, clerk, "minutes_signed").status_code == 200
    assert _go(client, world, clerk, "archived").json()["next_states"] == []
    changes = [e.data for e in world.store.events(meeting_id=world.meeting_id) if e.type == "meeting.state_changed"]
    assert [(c["from_state"], c["to_state"]) for c in changes][-2:] == [("closed", "minutes_signed"), ("minutes_signed", "archived")]


def test_next_states_are_those_this_user_may_take(client: TestClient, world: World) -> None:
    """The console offered the secretary "Bắt đầu phiên họp", which only the chair may do (a walk-through)."""
    chair, secretary, member = login(client, "chair"), login(client, "secretary"), login(client, "member1")
    assert _go(client, world, secretary, "open").json()["next_states"] == ["cancelled"]  # beginning the session is the chair's
    url = f"/api/meetings/{world.meeting_id}"
    assert client.get(url, headers=chair).json()["next_states"] == ["cancelled", "in_session"]
    assert client.get(url, headers=member).json()["next_states"] == []
    refused = _go(client, world, secretary, "in_session").json()["error"]
    assert "in session" in refused["message_en"] and "in_session" not in refused["message_en"]


@pytest.mark.parametrize("to", ["in_session", "closed", "minutes_signed", "archived", "adjourned", "scheduled"])
def test_illegal_transition_is_409_and_changes_nothing(client: TestClient, world: World, to: str) -> None:
    admin_like = login(client, "chair")
    before = snapshot(world.store)
    r = _go(client, world, admin_like, to)
    assert r.status_code in (403, 409)
    if r.status_code == 409:
        err = r.json()["error"]
        assert err["code"] == "invalid_transition" and err["details"]["state"] == "scheduled"
        assert "Đã lên lịch" in err["message"]
        assert "“Phiên họp thường kỳ tháng 11”" in err["message"] and world.meeting_id not in err["message"]  # named, not an id
    assert snapshot(world.store) == before


def test_unknown_state_is_422_naming_the_accepted_values(client: TestClient, world: World) -> None:
    r = _go(client, world, login(client, "chair"), "finished")
    assert r.status_code == 422
    assert "scheduled" in r.json()["error"]["message_en"] and r.json()["error"]["details"]["fields"][0]["field"] == "to"


def test_members_cannot_run_the_meeting(client: TestClient, world: World) -> None:
    before = snapshot(world.store)
    member = login(client, "member1")
    r = _go(client, world, member, "open")
    assert r.status_code == 403 and "không có quyền" in r.json()["error"]["message"]
    r = client.post(f"/api/meetings/{world.meeting_id}/agenda", json={"title": "Chen ngang"}, headers=member)
    assert r.status_code == 403
    r = client.post("/api/bodies", json={"name": "X", "short_name": "X"}, headers=member)
    assert r.status_code == 403
    assert snapshot(world.store) == before


def test_outsiders_do_not_see_the_meeting(client: TestClient, world: World) -> None:
    outsider = login(client, "outsider")
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=outsider).status_code == 404
    assert client.get(f"/api/meetings/{world.meeting_id}/agenda", headers=outsider).status_code == 404
    assert client.get("/api/meetings", headers=outsider).json() == []
    assert len(client.get("/api/meetings", headers=login(client, "clerk")).json()) == 1


def test_each_viewer_is_told_what_they_may_do(client: TestClient, world: World) -> None:
    def can(username: str) -> dict[str, bool]:
        can: dict[str, bool] = client.get(f"/api/meetings/{world.meeting_id}", headers=login(client, username)).json()["can"]
        return can

    officer = {"run_meeting": True, "prepare": True, "see_live_tally": True, "edit_minutes": True, "sign_minutes": True, "teller": True}
    assert can("chair") == {**officer, "chair": True}
    assert can("secretary") == {**officer, "chair": False}
    nothing = dict.fromkeys(officer, False) | {"chair": False}
    assert can("member1") == can("guest") == nothing
    # record keepers see the live tally and edit the minutes, but neither run the meeting nor sign for its officers
    assert can("clerk") == nothing | {"see_live_tally": True, "edit_minutes": True}
    assert can("admin") == {**nothing, "run_meeting": True, "prepare": True, "chair": True, "see_live_tally": True, "edit_minutes": True}
    listed = client.get("/api/meetings", headers=login(client, "secretary")).json()
    assert [m["can"]["run_meeting"] for m in listed] == [True]


def test_guest_sees_the_meeting_but_not_the_member_list(client: TestClient, world: World) -> None:
    guest = login(client, "guest")
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=guest).json()["my_role"] == "guest"
    assert client.get("/api/members", headers=guest).status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/api/meetings", '{"title": "x",', 400),
        ("post", "/api/meetings", {"title": "x"}, 422),
        ("post", "/api/meetings", {"body_id": "nope", "title": "Họp", "starts_at": "2026-12-01T08:00:00+07:00"}, 404),
        ("post", "/api/meetings", {"body_id": "{body}", "title": "Họp", "starts_at": "2026-12-01T08:00:00"}, 422),
        (
            "post",
            "/api/meetings",
            {"body_id": "{body}", "title": "Họp", "starts_at": "2026-12-01T08:00:00+07:00", "ends_at": "2026-12-01T07:00:00+07:00"},
            422,
        ),
        ("post", "/api/meetings", {"body_id": "{body}", "title": "   ", "starts_at": "2026-12-01T08:00:00+07:00"}, 422),
        ("get", "/api/meetings/nope", None, 404),
        ("post", "/api/meetings/nope/transitions", {"to": "open"}, 404),
        ("patch", "/api/meetings/{meeting}", {"chair_id": "{secretary}"}, 422),
        ("patch", "/api/meetings/{meeting}", {"surprise": 1}, 422),
        ("post", "/api/meetings/{meeting}/participants", {"member_id": "nope"}, 404),
        ("post", "/api/meetings/{meeting}/agenda", {"title": "x" * 501}, 422),
        ("put", "/api/meetings/{meeting}/agenda/order", {"item_ids": ["{item}"]}, 422),
        ("delete", "/api/meetings/{meeting}/agenda/nope", None, 404),
        ("get", "/api/no-such-route", None, 404),
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    client: TestClient, world: World, method: str, path: str, body: object, status: int
) -> None:
    chair = login(client, "chair")
    subs = {"{body}": world.body_id, "{meeting}": world.meeting_id, "{secretary}": world.ids["secretary"], "{item}": world.item_ids[0]}

    def fill(value: object) -> object:
        if isinstance(value, str):
            for k, v in subs.items():
                value = value.replace(k, v)
            return value
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    before = snapshot(world.store)
    kwargs: dict[str, Any] = {"headers": {**chair, "content-type": "application/json"}}
    if isinstance(body, str):
        kwargs["content"] = fill(body)
    elif body is not None:
        kwargs["json"] = fill(body)
    r = client.request(method.upper(), str(fill(path)), **kwargs)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["message"] and error["message_en"] and error["code"]
    assert snapshot(world.store) == before


def test_concurrent_conflicting_transitions_one_wins(world: World) -> None:
    """Eight chairs' taps at once: exactly one opens the meeting, the rest get a 409-class error."""
    chair = world.actor("chair")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def tap() -> None:
        barrier.wait()
        try:
            meetings.transition(world.store, chair, world.meeting_id, MeetingState.OPEN)
            outcomes.append("ok")
        except InvalidTransitionError:
            outcomes.append("409")

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes) == ["409"] * 7 + ["ok"]
    opened = [e for e in world.store.events(meeting_id=world.meeting_id) if e.type == "meeting.state_changed"]
    assert len(opened) == 1


def test_agenda_edit_reorder_remove(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    url = f"/api/meetings/{world.meeting_id}/agenda"
    items = client.post(url, json={"title": "Bế mạc", "presenter_id": world.ids["chair"]}, headers=sec).json()
    assert [i["title"] for i in items] == ["Khai mạc", "Biểu quyết dự toán ngân sách", "Bế mạc"]
    order = [items[2]["id"], items[0]["id"], items[1]["id"]]
    items = client.put(f"{url}/order", json={"item_ids": order}, headers=sec).json()
    assert [(i["position"], i["title"]) for i in items] == [(1, "Bế mạc"), (2, "Khai mạc"), (3, "Biểu quyết dự toán ngân sách")]
    items = client.patch(f"{url}/{order[1]}", json={"description": "Chủ tọa phát biểu"}, headers=sec).json()
    assert items[1]["description"] == "Chủ tọa phát biểu"
    assert client.delete(f"{url}/{order[0]}", headers=sec).status_code == 204
    assert [(i["position"], i["title"]) for i in client.get(url, headers=sec).json()] == [
        (1, "Khai mạc"),
        (2, "Biểu quyết dự toán ngân sách"),
    ]


def test_agenda_is_frozen_after_the_meeting_closes(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    for to in ["open", "in_session", "closed"]:
        _go(client, world, chair, to)
    before = snapshot(world.store)
    r = client.post(f"/api/meetings/{world.meeting_id}/agenda", json={"title": "Muộn"}, headers=chair)
    assert r.status_code == 409 and "Đã bế mạc" in r.json()["error"]["message"]
    assert snapshot(world.store) == before


def test_changing_the_chair_demotes_the_old_one(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    r = client.patch(f"/api/meetings/{world.meeting_id}", json={"chair_id": world.ids["member1"]}, headers=sec)
    assert r.status_code == 200 and r.json()["chair_id"] == world.ids["member1"]
    roles = {p["member_id"]: p["role"] for p in client.get(f"/api/meetings/{world.meeting_id}/participants", headers=sec).json()}
    assert roles[world.ids["member1"]] == "chair" and roles[world.ids["chair"]] == "member"
    assert _go(client, world, login(client, "chair"), "open").status_code == 403  # no longer the chair
    assert _go(client, world, login(client, "member1"), "open").status_code == 200


def test_admin_manages_bodies_members_rooms(client: TestClient, world: World) -> None:
    from tests.meeting_room.api.test_auth import _admin_password

    admin = login(client, "admin", _admin_password(world))
    body = client.post("/api/bodies", json={"name": "Sở Tài chính", "short_name": "STC", "parent_name": "UBND tỉnh"}, headers=admin)
    assert body.status_code == 201
    dup = client.post("/api/bodies", json={"name": "Sở Tài chính", "short_name": "X"}, headers=admin)
    assert dup.status_code == 409
    m = client.post(
        "/api/members",
        json={
            "full_name": "Trần Văn Bình",
            "title": "Giám đốc",
            "body_id": body.json()["id"],
            "roles": ["chair", "member"],
            "username": "binh.tv",
            "password": "mat-khau-cua-binh",
        },
        headers=admin,
    )
    assert m.status_code == 201 and m.json()["roles"] == ["chair", "member"]
    taken = {"full_name": "X", "username": "binh.tv", "password": "mot-mat-khau-khac"}
    assert client.post("/api/members", json=taken, headers=admin).status_code == 409
    assert client.post("/api/members", json={"full_name": "X", "roles": ["king"]}, headers=admin).status_code == 422
    login(client, "binh.tv", "mat-khau-cua-binh")
    room = client.post("/api/rooms", json={"name": "Hội trường lớn", "seats": ["A1", "A2"]}, headers=admin).json()
    seat_a1 = room["seats"][0]["id"]
    room = client.patch(f"/api/rooms/{room['id']}", json={"seats": ["A0", "A1", "A2"]}, headers=admin).json()
    assert [s["label"] for s in room["seats"]] == ["A0", "A1", "A2"] and room["seats"][1]["id"] == seat_a1
    assert client.patch(f"/api/rooms/{room['id']}", json={"seats": ["B", "B"]}, headers=admin).status_code == 422


def test_huge_json_body_is_413_before_it_is_read(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    before = snapshot(world.store)
    huge = '{"title": "' + "x" * (2 << 20) + '"}'
    r = client.post(f"/api/meetings/{world.meeting_id}/agenda", content=huge, headers={**chair, "content-type": "application/json"})
    assert r.status_code == 413 and "quá lớn" in r.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the middleware counts what arrives
        for _ in range(3):
            yield b"x" * (1 << 19)

    r = client.post(f"/api/meetings/{world.meeting_id}/agenda", content=chunks(), headers={**chair, "content-type": "application/json"})
    assert r.status_code == 413
    assert snapshot(world.store) == before


def test_the_body_kind_names_members_and_sets_the_default_rule(client: TestClient, world: World) -> None:
    from tests.meeting_room.api.test_auth import _admin_password

    admin = login(client, "admin", _admin_password(world))
    meeting = client.get(f"/api/meetings/{world.meeting_id}", headers=login(client, "member1")).json()
    assert (meeting["body_kind"], meeting["member_term"], meeting["default_rule"]) == ("council", "đại biểu", "hdnd_resolution")
    assert meeting["started_at"] is None and meeting["closed_at"] is None
    body = client.post("/api/bodies", json={"name": "Sở Tư pháp", "short_name": "STP"}, headers=admin).json()
    assert body["kind"] == "other"
    changed = client.patch(f"/api/bodies/{world.body_id}", json={"kind": "committee"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["kind"] == "committee"
    meeting = client.get(f"/api/meetings/{world.meeting_id}", headers=admin).json()
    assert (meeting["member_term"], meeting["default_rule"]) == ("thành viên", "ubnd_decision")
    assert client.patch(f"/api/bodies/{world.body_id}", json={"kind": "parliament"}, headers=admin).status_code == 422

    chair = login(client, "chair")
    for to in ("open", "in_session", "closed"):
        assert _go(client, world, chair, to).status_code == 200
    held = client.get(f"/api/meetings/{world.meeting_id}", headers=chair).json()
    assert held["started_at"] is not None and held["closed_at"] >= held["started_at"]


def test_cancelling_keeps_the_reason_on_the_meeting(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=sec).json()["cancel_reason"] is None
    r = client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "cancelled", "reason": "  Hoãn do bão số 9 "}, headers=sec)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["cancel_reason"]) == ("cancelled", "Hoãn do bão số 9")
    member = client.get(f"/api/meetings/{world.meeting_id}", headers=login(client, "member1")).json()
    assert member["cancel_reason"] == "Hoãn do bão số 9"  # every participant is told why


def test_members_are_found_by_name_without_diacritics(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    for i, name in enumerate(("Nguyễn Văn Đức", "Nguyễn Thị Hoa", "Trần Văn Nam")):
        person = {"full_name": name, "body_id": world.body_id, "username": f"tim{i}", "password": "Mùa thu lá bay 2026!"}
        assert client.post("/api/members", json=person, headers=admin).status_code == 201, name
    sec = login(client, "secretary")

    def names(**params: str) -> list[str]:
        r = client.get("/api/members", params=params, headers=sec)
        assert r.status_code == 200, r.text
        return [m["full_name"] for m in r.json()]

    assert names(q="nguyen van") == ["Nguyễn Văn Đức"]
    assert names(q="NGUYEN") == ["Nguyễn Thị Hoa", "Nguyễn Văn Đức"]
    assert names(q="van duc") == ["Nguyễn Văn Đức"]  # "đ" folds to "d"; the words in any order
    assert names(q="Văn", body_id=world.body_id) == ["Nguyễn Văn Đức", "Trần Văn Nam"]
    assert names(q="member1") == ["Người member1"]  # the username too
    assert names(q="khong co ai") == []
    assert len(names()) == len(names(q="  "))  # no words: everyone
    r = client.get("/api/members", params={"q": "x" * 201}, headers=sec)
    assert r.status_code == 422

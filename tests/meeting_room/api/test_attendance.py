"""Attendance records: statuses, sources, reasons, states, and the presence summary."""

from __future__ import annotations

from fastapi.testclient import TestClient

from meeting_room.attendance import AttendanceSource, AttendanceStatus
from meeting_room.services import attendance
from tests.conftest import World, login, snapshot


def _mark(client: TestClient, world: World, headers: dict[str, str], who: str, **body: object):
    return client.put(f"/api/meetings/{world.meeting_id}/attendance/{world.ids[who]}", json=body, headers=headers)


def _open(client: TestClient, world: World) -> dict[str, str]:
    chair = login(client, "chair")
    assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "open"}, headers=chair).status_code == 200
    return chair


def test_absence_with_reason_before_the_meeting_but_presence_only_once_open(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    r = _mark(client, world, sec, "member2", status="absent_excused", reason="Đi công tác tại Hà Nội")
    assert r.status_code == 200
    before = snapshot(world.store)
    r = _mark(client, world, sec, "member1", status="present_in_room")
    assert r.status_code == 409 and "Đã lên lịch" in r.json()["error"]["message"]
    r = _mark(client, world, sec, "member1", status="absent_excused")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "reason"
    assert snapshot(world.store) == before


def test_summary_counts_room_online_absent(client: TestClient, world: World) -> None:
    chair = _open(client, world)
    _mark(client, world, chair, "chair", status="present_in_room")
    _mark(client, world, chair, "secretary", status="present_in_room")
    _mark(client, world, chair, "member2", status="absent_unexcused")
    _mark(client, world, chair, "guest", status="present_in_room")
    attendance.record(world.store, None, world.meeting_id, world.ids["member1"], AttendanceStatus.PRESENT_ONLINE, AttendanceSource.ONLINE)
    body = client.get(f"/api/meetings/{world.meeting_id}/attendance", headers=login(client, "member2")).json()
    assert body["summary"] == {
        "expected": 4,
        "present": 3,
        "present_in_room": 2,
        "present_online": 1,
        "absent_excused": 0,
        "absent_unexcused": 1,
        "left": 0,
        "not_recorded": 0,
        "guests_present": 1,
        "quorum_needed": 3,  # two thirds of 4, rounded up
        "quorum_reached": True,
    }
    by_member = {r["member_id"]: r for r in body["records"]}
    online = by_member[world.ids["member1"]]
    assert (online["status_label"], online["source"]) == ("Có mặt trực tuyến", "online")
    assert by_member[world.ids["chair"]]["first_present_at"] is not None


def test_face_source_is_recorded_with_confidence_and_camera(client: TestClient, world: World) -> None:
    _open(client, world)
    attendance.record(
        world.store,
        None,
        world.meeting_id,
        world.ids["member2"],
        AttendanceStatus.PRESENT_IN_ROOM,
        AttendanceSource.FACE,
        confidence=0.93,
        camera="cam-1",
    )
    rec = next(
        r
        for r in client.get(f"/api/meetings/{world.meeting_id}/attendance", headers=login(client, "chair")).json()["records"]
        if r["member_id"] == world.ids["member2"]
    )
    assert (rec["source"], rec["confidence"], rec["camera"]) == ("face", 0.93, "cam-1")


def test_people_may_only_record_manual_attendance(client: TestClient, world: World) -> None:
    chair = _open(client, world)
    r = _mark(client, world, chair, "member1", status="present_in_room", source="face")
    assert r.status_code == 422 and r.json()["error"]["details"]["accepted"] == ["manual"]


def test_members_cannot_mark_attendance_and_outsiders_are_not_participants(client: TestClient, world: World) -> None:
    chair = _open(client, world)
    before = snapshot(world.store)
    assert _mark(client, world, login(client, "member1"), "member1", status="present_in_room").status_code == 403
    r = _mark(client, world, chair, "outsider", status="present_in_room")
    assert r.status_code == 422 and "không có trong danh sách" in r.json()["error"]["message"]
    assert _mark(client, world, chair, "member1", status="sleeping").status_code == 422
    assert snapshot(world.store) == before


def test_late_arrival_and_early_departure(client: TestClient, world: World) -> None:
    from datetime import timedelta

    chair = _open(client, world)
    assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "in_session"}, headers=chair).status_code == 200
    _mark(client, world, chair, "member1", status="present_in_room")
    later = world.store.now() + timedelta(minutes=12)
    world.store._clock = lambda: later
    _mark(client, world, chair, "member2", status="present_in_room")
    r = _mark(client, world, chair, "member1", status="left", reason="Xin phép về sớm")
    body = r.json()
    by_member = {x["member_id"]: x for x in body["records"]}
    assert (by_member[world.ids["member2"]]["late"], by_member[world.ids["member2"]]["late_minutes"]) == (True, 12)
    assert by_member[world.ids["member1"]]["late"] is False
    assert by_member[world.ids["member1"]]["status_label"] == "Đã rời cuộc họp"
    assert body["summary"]["left"] == 1 and body["started_at"] is not None


def test_an_absences_reason_is_read_by_the_officers_and_the_member_alone(client: TestClient, world: World) -> None:
    """The replies keep an absence's reason from the other members; the attendance list and its events
    did not (found in a new user's walk-through): the others see "vắng có lý do", not why."""
    sec = login(client, "secretary")
    assert _mark(client, world, sec, "member2", status="absent_excused", reason="Khám bệnh tại bệnh viện tỉnh").status_code == 200

    def reason_seen_by(who: str) -> tuple[object, list[object]]:
        headers = login(client, who)
        records = client.get(f"/api/meetings/{world.meeting_id}/attendance", headers=headers).json()["records"]
        record = next(r for r in records if r["member_id"] == world.ids["member2"])
        assert record["status"] == "absent_excused"
        events = client.get(f"/api/meetings/{world.meeting_id}/events", headers=headers).json()["events"]
        in_events = [e["data"].get("reason") for e in events if e["type"] == "attendance.recorded"]
        return record["reason"], in_events

    assert reason_seen_by("secretary") == ("Khám bệnh tại bệnh viện tỉnh", ["Khám bệnh tại bệnh viện tỉnh"])
    assert reason_seen_by("chair")[0] == "Khám bệnh tại bệnh viện tỉnh"
    assert reason_seen_by("member2")[0] == "Khám bệnh tại bệnh viện tỉnh"  # their own
    assert reason_seen_by("member1") == (None, [None])

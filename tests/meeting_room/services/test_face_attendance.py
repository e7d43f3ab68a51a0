"""A remote participant's face check recorded through the store: only for someone on a call, not
twice the same, never a check-in; the secretary sees a mismatch on the attendance record."""

from __future__ import annotations

from fastapi.testclient import TestClient

from meeting_room.attendance import AttendanceStatus, FaceCheck
from meeting_room.lifecycle import MeetingState
from meeting_room.services import attendance, meetings
from meeting_room.services.face_attendance import record_online_face_check
from tests.conftest import World, login, snapshot


def _records(client: TestClient, world: World) -> dict[str, dict[str, object]]:
    body = client.get(f"/api/meetings/{world.meeting_id}/attendance", headers=login(client, "secretary")).json()
    return {r["member_id"]: r for r in body["records"]}


def test_a_face_check_is_recorded_for_someone_online_once_and_changes_no_attendance(client: TestClient, world: World) -> None:
    store, mid, ids = world.store, world.meeting_id, world.ids
    # the meeting is only scheduled, and nobody is on a call: nothing to record
    before = snapshot(store)
    assert not record_online_face_check(store, mid, ids["member1"], FaceCheck.CONFIRMED, confidence=0.6)
    meetings.transition(store, world.actor("chair"), mid, MeetingState.OPEN)
    assert not record_online_face_check(store, mid, ids["member1"], FaceCheck.CONFIRMED, confidence=0.6)
    assert snapshot(store)[0] == before[0] + 1  # only the transition
    attendance.record_online(store, mid, ids["member1"], True)
    attendance.record_online(store, mid, ids["member2"], True)

    assert record_online_face_check(store, mid, ids["member1"], FaceCheck.CONFIRMED, confidence=0.6123)
    assert not record_online_face_check(store, mid, ids["member1"], FaceCheck.CONFIRMED, confidence=0.7)  # nothing new
    assert record_online_face_check(store, mid, ids["member2"], FaceCheck.MISMATCH, distance=0.71, looks_like=ids["member1"])
    last = list(store.events())[-1]
    assert last.type == "attendance.online_face_checked"
    assert last.data["looks_like"] == ids["member1"] and last.data["distance"] == 0.71

    records = _records(client, world)
    me, other = records[ids["member1"]], records[ids["member2"]]
    assert (me["status"], me["face_check"], me["face_check_looks_like"]) == ("present_online", "confirmed", None)
    assert me["face_check_at"] is not None
    # a mismatch is a warning, never a check-in: still online, as before, and named for the secretary
    assert (other["status"], other["face_check"], other["face_check_looks_like"]) == ("present_online", "mismatch", "Người member1")
    assert FaceCheck.MISMATCH.label_vi == "Khuôn mặt không khớp"

    store.rebuild()  # a read model: derived from the events
    assert _records(client, world)[ids["member2"]]["face_check"] == "mismatch"


def test_no_face_check_for_someone_in_the_room(client: TestClient, world: World) -> None:
    store, mid, ids = world.store, world.meeting_id, world.ids
    meetings.transition(store, world.actor("chair"), mid, MeetingState.OPEN)
    attendance.record(store, world.actor("chair"), mid, ids["member1"], AttendanceStatus.PRESENT_IN_ROOM)
    assert not record_online_face_check(store, mid, ids["member1"], FaceCheck.MISMATCH, distance=0.8)
    assert _records(client, world)[ids["member1"]]["face_check"] is None

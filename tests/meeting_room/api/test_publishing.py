"""Sending a meeting's invitation (publishing): who may, what participants see before and after,
sending again only after a change, and the "changed since you looked" mark."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from meeting_room.db import tables as t
from tests.conftest import World, login, snapshot


@pytest.fixture
def world(draft_world: World) -> World:
    """These tests send the invitation themselves."""
    return draft_world


def _listed(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = client.get("/api/meetings", headers=headers)
    assert r.status_code == 200, r.text
    return {m["id"]: m for m in r.json()}


def _seen_at(world: World, username: str) -> datetime:
    with world.store.read() as session:
        return session.get_one(t.MeetingView, (world.ids[username], world.meeting_id)).seen_at


def _publish(client: TestClient, world: World, headers: dict[str, str], meeting_id: str | None = None) -> httpx.Response:
    return client.post(f"/api/meetings/{meeting_id or world.meeting_id}/publish", headers=headers)


def test_participants_list_a_scheduled_meeting_only_once_it_is_published(client: TestClient, world: World) -> None:
    member, guest, secretary = login(client, "member1"), login(client, "guest"), login(client, "secretary")
    assert _listed(client, member) == {} and _listed(client, guest) == {}
    for preparer in ("chair", "secretary", "clerk", "admin"):  # those who prepare or keep it see it all along
        assert world.meeting_id in _listed(client, login(client, preparer)), preparer
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=secretary).json()["published_at"] is None

    draft = [f"/api/meetings/{world.meeting_id}{path}" for path in ("", "/agenda", "/participants", "/documents")]
    for url in draft:  # a draft is not read by a direct link either: the same 404 as a meeting that does not exist
        for who in (member, guest):
            answer = client.get(url, headers=who)
            assert answer.status_code == 404 and "Không có cuộc họp" in answer.json()["error"]["message"], (url, answer.text)
    before = snapshot(world.store)
    refused = _publish(client, world, member)
    assert refused.status_code == 404, refused.text
    assert snapshot(world.store) == before

    published = _publish(client, world, secretary)
    assert published.status_code == 200, published.text
    assert published.json()["published_at"] is not None
    [event] = [e for e in world.store.events(meeting_id=world.meeting_id) if e.type == "meeting_published"]
    assert (event.actor_id, event.data) == (world.ids["secretary"], {"meeting_id": world.meeting_id})
    listed = _listed(client, member)
    assert list(listed) == [world.meeting_id] and listed[world.meeting_id]["published_at"] == published.json()["published_at"]
    assert world.meeting_id in _listed(client, guest)
    assert _listed(client, login(client, "outsider")) == {}
    for url in draft:
        assert client.get(url, headers=member).status_code == 200, url


def test_publishing_again_needs_a_change(client: TestClient, world: World) -> None:
    secretary = login(client, "secretary")
    assert _publish(client, world, secretary).status_code == 200
    before = snapshot(world.store)
    again = _publish(client, world, secretary)
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert "chưa có gì thay đổi" in error["message"] and "nothing has changed" in error["message_en"]
    assert snapshot(world.store) == before

    added = client.post(f"/api/meetings/{world.meeting_id}/agenda", json={"title": "Các vấn đề khác"}, headers=secretary)
    assert added.status_code == 201, added.text
    resent = _publish(client, world, login(client, "chair"))
    assert resent.status_code == 200, resent.text
    assert resent.json()["published_at"] > client.get(f"/api/meetings/{world.meeting_id}", headers=secretary).json()["created_at"]
    sent = [e.data for e in world.store.events(meeting_id=world.meeting_id) if e.type == "meeting_published"]
    assert sent == [{"meeting_id": world.meeting_id}, {"meeting_id": world.meeting_id, "republish": True}]
    assert _publish(client, world, secretary).status_code == 409  # nothing changed since the second time


def test_a_cancelled_or_closed_meeting_is_not_published(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    r = client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "cancelled", "reason": "Hoãn"}, headers=chair)
    assert r.status_code == 200, r.text
    before = snapshot(world.store)
    refused = _publish(client, world, chair)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert "Không thể gửi giấy mời" in error["message"] and "Đã hủy" in error["message"], error
    assert "Cannot publish the meeting" in error["message_en"] and error["details"]["state"] == "cancelled"
    assert snapshot(world.store) == before


def test_a_change_after_publishing_is_marked_until_each_person_opens_the_meeting(client: TestClient, world: World) -> None:
    secretary, member1, member2 = login(client, "secretary"), login(client, "member1"), login(client, "member2")
    client.patch(f"/api/meetings/{world.meeting_id}", json={"title": "Kỳ họp thứ nhất"}, headers=secretary)  # before: no mark
    assert _publish(client, world, secretary).status_code == 200
    assert not _listed(client, member1)[world.meeting_id]["changed_since_seen"]

    item = client.post(f"/api/meetings/{world.meeting_id}/agenda", json={"title": "Bổ sung"}, headers=secretary).json()[-1]
    assert _listed(client, member1)[world.meeting_id]["changed_since_seen"]
    assert _listed(client, member2)[world.meeting_id]["changed_since_seen"]

    assert client.get(f"/api/meetings/{world.meeting_id}", headers=member1).status_code == 200  # member1 opens it
    assert not _listed(client, member1)[world.meeting_id]["changed_since_seen"]
    assert _listed(client, member2)[world.meeting_id]["changed_since_seen"]  # member2 has not looked yet
    events = snapshot(world.store)  # looking is no event
    looked = _seen_at(world, "member1")
    client.get(f"/api/meetings/{world.meeting_id}", headers=member1)  # opening it again, unchanged, writes nothing
    assert (snapshot(world.store), _seen_at(world, "member1")) == (events, looked)

    ends = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    changes: list[Callable[[], httpx.Response]] = [
        lambda: client.patch(f"/api/meetings/{world.meeting_id}/agenda/{item['id']}", json={"title": "Bổ sung (sửa)"}, headers=secretary),
        lambda: client.patch(f"/api/meetings/{world.meeting_id}", json={"ends_at": ends}, headers=secretary),
        lambda: client.delete(f"/api/meetings/{world.meeting_id}/agenda/{item['id']}", headers=secretary),
    ]
    for change in changes:
        assert change().status_code < 300
        assert _listed(client, member1)[world.meeting_id]["changed_since_seen"]
        client.get(f"/api/meetings/{world.meeting_id}", headers=member1)
        assert not _listed(client, member1)[world.meeting_id]["changed_since_seen"]

    # what happens in the meeting (attendance, the floor) is not a change to read ahead
    client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "open"}, headers=secretary)
    assert not _listed(client, member1)[world.meeting_id]["changed_since_seen"]


def test_a_body_s_staff_see_and_publish_its_meetings(client: TestClient, world: World) -> None:
    admin, secretary = login(client, "admin"), login(client, "secretary")
    starts = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    meeting = {"body_id": world.body_id, "title": "Họp tổ", "starts_at": starts, "invite_body_members": False}
    made = client.post("/api/meetings", json=meeting, headers=admin)
    assert made.status_code == 201, made.text
    other = made.json()["id"]
    invited = client.post(f"/api/meetings/{other}/participants", json={"member_id": world.ids["member1"]}, headers=admin)
    assert invited.status_code == 201, invited.text
    assert other in _listed(client, secretary)  # the body's secretary, though nobody appointed them to it
    seen = client.get(f"/api/meetings/{other}", headers=secretary).json()
    assert (seen["my_role"], seen["can"]["prepare"], seen["can"]["run_meeting"]) == (None, True, False)
    assert _publish(client, world, secretary, other).status_code == 200
    assert other in _listed(client, login(client, "member1"))
    assert client.get(f"/api/meetings/{other}", headers=login(client, "outsider")).status_code == 404
    assert not client.get(f"/api/meetings/{other}", headers=login(client, "member1")).json()["can"]["prepare"]

"""The meeting's live event stream over a real WebSocket: order, resume without gaps, authorisation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from meeting_room.attendance import AttendanceStatus
from meeting_room.lifecycle import MeetingState
from meeting_room.services import agenda, attendance, meetings
from tests.conftest import World, login


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _next_event(ws: WebSocketTestSession) -> dict[str, Any]:
    """The next event, skipping the derived live messages (attendance counts, tallies)."""
    while (msg := ws.receive_json())["kind"] != "event":
        assert msg["kind"] in ("attendance", "tally")
    event: dict[str, Any] = msg["event"]
    return event


def _until_ready(ws: WebSocketTestSession) -> tuple[list[dict[str, Any]], int]:
    events: list[dict[str, Any]] = []
    while True:
        msg = ws.receive_json()
        if msg["kind"] == "ready":
            return events, msg["last_event_id"]
        assert msg["kind"] == "event"
        events.append(msg["event"])


def test_backlog_then_live_events_in_order(client: TestClient, world: World) -> None:
    headers = login(client, "member1")
    backlog_ids = [e.seq for e in world.store.events(meeting_id=world.meeting_id)]
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=headers) as ws:
        events, last = _until_ready(ws)
        assert [e["id"] for e in events] == backlog_ids and last == backlog_ids[-1]
        assert events[0]["type"] == "meeting.scheduled"
        chair = world.actor("chair")
        meetings.transition(world.store, chair, world.meeting_id, MeetingState.OPEN)
        attendance.record(world.store, chair, world.meeting_id, world.ids["member1"], AttendanceStatus.PRESENT_IN_ROOM)
        agenda.add_item(world.store, chair, world.meeting_id, title="Mục bổ sung")
        live = [_next_event(ws) for _ in range(3)]
    assert [e["type"] for e in live] == ["meeting.state_changed", "attendance.recorded", "agenda.item_added"]
    assert live[0]["data"]["to_state"] == "open" and live[1]["data"]["member_id"] == world.ids["member1"]
    assert [e["id"] for e in live] == sorted(e["id"] for e in live) and live[0]["id"] > last


def test_reconnect_resumes_after_the_last_seen_id_without_gaps_or_repeats(client: TestClient, world: World) -> None:
    headers = login(client, "member1")
    chair = world.actor("chair")
    url = f"/api/meetings/{world.meeting_id}/stream"
    with client.websocket_connect(url, headers=headers) as ws:
        _, last = _until_ready(ws)
        agenda.add_item(world.store, chair, world.meeting_id, title="Một")
        seen = _next_event(ws)["id"]
    # Offline: three changes happen, one of them in another meeting's scope is not ours.
    for title in ("Hai", "Ba"):
        agenda.add_item(world.store, chair, world.meeting_id, title=title)
    meetings.transition(world.store, chair, world.meeting_id, MeetingState.OPEN)
    with client.websocket_connect(f"{url}?after={seen}", headers=headers) as ws:
        missed, now = _until_ready(ws)
    expected = [e.seq for e in world.store.events(meeting_id=world.meeting_id, after=seen)]
    assert [e["id"] for e in missed] == expected and len(expected) == 3 and now == expected[-1]
    assert seen > last


def test_token_in_the_query_for_browsers_without_cookies(client: TestClient, world: World) -> None:
    token = _token(login(client, "chair"))
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream?token={token}") as ws:
        events, _ = _until_ready(ws)
        assert events


@pytest.mark.parametrize(
    ("who", "meeting", "code"),
    [(None, "own", 4401), ("outsider", "own", 4404), ("member1", "nope", 4404)],
)
def test_refused_subscribers_get_an_error_then_a_close_code(
    client: TestClient, world: World, who: str | None, meeting: str, code: int
) -> None:
    headers = login(client, who) if who else {}
    meeting_id = world.meeting_id if meeting == "own" else meeting
    with client.websocket_connect(f"/api/meetings/{meeting_id}/stream", headers=headers) as ws:
        msg = ws.receive_json()
        assert msg["kind"] == "error" and msg["error"]["message"] and msg["error"]["message_en"]
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == code


def test_cross_site_cookie_connection_is_refused(client: TestClient, world: World) -> None:
    r = client.post("/api/auth/login", json={"username": "member1", "password": "mat-khau-thu-nghiem"})
    assert r.status_code == 200  # the cookie is now in the client
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers={"origin": "http://evil.example"}) as ws:
        assert ws.receive_json()["error"]["code"] == "permission_denied"


def test_http_event_pages(client: TestClient, world: World) -> None:
    headers = login(client, "member1")
    all_ids = [e.seq for e in world.store.events(meeting_id=world.meeting_id)]
    first = client.get(f"/api/meetings/{world.meeting_id}/events?limit=2", headers=headers).json()
    rest = client.get(f"/api/meetings/{world.meeting_id}/events?after={first['last_event_id']}", headers=headers).json()
    assert [e["id"] for e in first["events"] + rest["events"]] == all_ids
    assert client.get(f"/api/meetings/{world.meeting_id}/events?after=-1", headers=headers).status_code == 422


def test_a_backlog_longer_than_one_page_arrives_whole_and_in_order(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meeting_room.api.routes import events as events_route

    monkeypatch.setattr(events_route, "_BACKLOG_PAGE", 3)
    chair = world.actor("chair")
    for n in range(7):
        agenda.add_item(world.store, chair, world.meeting_id, title=f"Mục {n}")
    expected = [e.seq for e in world.store.events(meeting_id=world.meeting_id)]
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=login(client, "member1")) as ws:
        got, last = _until_ready(ws)
    assert [e["id"] for e in got] == expected and last == expected[-1] and len(expected) > 9


def test_a_session_or_a_member_holds_only_so_many_live_pages(client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """An attacker's probe opened 500 pages from one member: each costs work on every event and access
    check. Past the limits a page is refused (4429, said why); closing one lets the next in."""
    import contextlib

    from meeting_room.live import live_sessions

    monkeypatch.setattr(live_sessions, "MAX_VIEWERS_PER_SESSION", 2)
    monkeypatch.setattr(live_sessions, "MAX_VIEWERS_PER_MEMBER", 3)
    url = f"/api/meetings/{world.meeting_id}/stream?token="
    first, second = _token(login(client, "member1")), _token(login(client, "member1"))  # two log-ins (a tablet, a phone)
    with contextlib.ExitStack() as stack:
        pages = [stack.enter_context(client.websocket_connect(url + first)) for _ in range(2)]
        for page in pages:
            _until_ready(page)
        with client.websocket_connect(url + first) as third:  # the same log-in's third page
            refused = third.receive_json()
            assert refused["kind"] == "error" and refused["error"]["code"] == "too_many_connections"
            assert "tối đa 2 trong một phiên đăng nhập" in refused["error"]["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                third.receive_json()
            assert closed.value.code == 4429
        other = stack.enter_context(client.websocket_connect(url + second))  # the member's third page, on the phone
        _until_ready(other)
        with client.websocket_connect(url + second) as fourth:  # the member's fourth: over the person's limit
            assert fourth.receive_json()["error"]["code"] == "too_many_connections"
        with client.websocket_connect(url + _token(login(client, "member2"))) as someone_else:  # nobody else is affected
            _until_ready(someone_else)
        pages[0].close()
    with client.websocket_connect(url + first) as again:  # closed ones count no more
        _until_ready(again)

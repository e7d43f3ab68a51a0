"""A session ends everywhere at once: open WebSockets (event stream, call, live audio) of a session
that was logged out, reset, disabled, stripped of a role, expired or revoked close within a second,
with a close code and a bilingual reason, and a call on it is hung up."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from meeting_room import auth
from meeting_room import events as ev
from meeting_room.api import create_app
from meeting_room.api.routes import events as events_route
from meeting_room.attendance import AttendanceStatus
from meeting_room.chain import StoredEvent
from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.live import live_sessions
from meeting_room.live.live_sessions import ACCESS_LOST, MEETING_ENDED, RIGHTS_CHANGED, SESSION_ENDED, Ending
from meeting_room.roles import Role
from meeting_room.server import open_store
from meeting_room.services import attendance, invitations, meetings, members, polls
from tests.conftest import PASSWORD, World, _settings, client_runtime, login, make_world
from tests.meeting_room.call_server import _free_port, _h, wait_for
from webrtc.client import CallClient

ORIGIN = {"Origin": "http://testserver"}


class Closing:
    """Reads a socket in a thread until the server closes it; the close code, reason and when."""

    def __init__(self, ws) -> None:
        self.messages: list[dict[str, Any]] = []
        self._done: queue.Queue[tuple[int, str, float]] = queue.Queue()
        threading.Thread(target=self._read, args=(ws,), daemon=True).start()

    def _read(self, ws) -> None:
        try:
            while True:
                self.messages.append(ws.receive_json())
        except WebSocketDisconnect as exc:
            self._done.put((exc.code, exc.reason, time.monotonic()))
        except Exception as exc:  # the test itself closed the socket  # noqa: BLE001
            self._done.put((-1, repr(exc), time.monotonic()))

    def closed(self, seconds: float = 10.0) -> tuple[int, str, float]:
        try:
            return self._done.get(timeout=seconds)
        except queue.Empty:
            raise AssertionError(f"the socket was still open after {seconds} s") from None


def _until_ready(ws) -> None:
    while ws.receive_json()["kind"] != "ready":
        pass


@contextlib.contextmanager
def _two_streams(client: TestClient, world: World, first: dict[str, str], second: dict[str, str]) -> Iterator[tuple[Closing, Closing]]:
    """Two sessions' event streams of the meeting, past their backlog, read in threads."""
    url = f"/api/meetings/{world.meeting_id}/stream"
    with client.websocket_connect(url, headers=first) as ws1, client.websocket_connect(url, headers=second) as ws2:
        _until_ready(ws1)
        _until_ready(ws2)
        yield Closing(ws1), Closing(ws2)


def _first_checks_done(client: TestClient) -> None:
    """Past the check each new socket gets once: a change after this must be noticed on its own."""
    watcher = client_runtime(client).live
    wait_for("the sockets' first check", lambda: all(live.rechecked for group in watcher._live.values() for live in group), 10)


def _saw(closing: Closing, event_type: str) -> Callable[[], bool]:
    return lambda: any(m.get("event", {}).get("type") == event_type for m in closing.messages)


def _assert_ended(closing: Closing, since: float, ending: Ending) -> None:
    code, reason, at = closing.closed()
    # the watcher reads every 0.5 s; the bound leaves room for a loaded 2-core machine (1.89 s seen
    # in CI) and still fails a socket left open until its next request or the 10 s wait
    assert at - since < 5.0, f"closed {at - since:.2f} s after the session ended"
    assert (code, reason) == (ending.code, ending.reason)
    vi, en = reason.split(" / ")
    assert not vi.isascii() and vi.split()[0] in ("Phiên", "Tài", "Quyền", "Cuộc", "Bạn")  # Vietnamese first, then English
    assert en.isascii() and en
    assert closing.messages[-1] == {"kind": "error", "error": ending.error()}


def _admin_patch(client: TestClient, world: World, who: str, **change: object) -> Callable[[], None]:
    def act() -> None:
        r = client.patch(f"/api/members/{world.ids[who]}", json=change, headers=login(client, "admin"))
        assert r.status_code == 200, r.text

    return act


def _ways(client: TestClient, world: World) -> dict[str, tuple[Callable[[dict[str, str]], None], Ending]]:
    def deactivate(_: dict[str, str]) -> None:
        _admin_patch(client, world, "member1", active=False)()

    def remove_role(_: dict[str, str]) -> None:
        _admin_patch(client, world, "member1", roles=["guest"])()

    def admin_reset(_: dict[str, str]) -> None:
        r = client.post(
            f"/api/members/{world.ids['member1']}/password", json={"new_password": "mat-khau-moi-1"}, headers=login(client, "admin")
        )
        assert r.status_code == 204, r.text

    def temporary_password(_: dict[str, str]) -> None:
        r = client.post(f"/api/members/{world.ids['member1']}/password-reset", headers=login(client, "admin"))
        assert r.status_code == 200, r.text

    def own_password(headers: dict[str, str]) -> None:
        body = {"new_password": "mat-khau-moi-2", "current_password": PASSWORD}
        r = client.post(f"/api/members/{world.ids['member1']}/password", json=body, headers=headers)
        assert r.status_code == 204, r.text

    def logout(headers: dict[str, str]) -> None:
        assert client.post("/api/auth/logout", headers=headers).status_code == 204

    return {
        "deactivation": (deactivate, SESSION_ENDED),
        "role removal": (remove_role, RIGHTS_CHANGED),
        "admin password reset": (admin_reset, SESSION_ENDED),
        "temporary password": (temporary_password, SESSION_ENDED),
        "own password change": (own_password, SESSION_ENDED),
        "logout": (logout, SESSION_ENDED),
    }


@pytest.mark.parametrize(
    "how", ["deactivation", "role removal", "admin password reset", "temporary password", "own password change", "logout"]
)
def test_an_open_stream_closes_within_a_second_when_its_session_ends(client: TestClient, world: World, how: str) -> None:
    act, ending = _ways(client, world)[how]
    member = login(client, "member1")
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=member) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        act(member)
        _assert_ended(closing, time.monotonic(), ending)
    if how != "role removal":
        assert client.get("/api/auth/me", headers=member).status_code == 401  # and HTTP agrees


def test_an_expired_session_closes_its_stream_at_expiry(client: TestClient, world: World) -> None:
    member = login(client, "member1")
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=member) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        expires = datetime.now(UTC) + timedelta(seconds=0.8)
        with world.store.read() as session, session.begin():
            row = session.get_one(t.AuthSession, _hash(member))
            row.expires_at = expires
        at_expiry = time.monotonic() + (expires - datetime.now(UTC)).total_seconds()
        code, reason, at = closing.closed()
    assert (code, reason) == (SESSION_ENDED.code, SESSION_ENDED.reason)
    assert -0.05 < at - at_expiry < 1.0, f"closed {at - at_expiry:+.2f} s from the expiry"


def test_a_session_ended_by_another_process_is_noticed_within_a_second(client: TestClient, world: World) -> None:
    """Another server on the same database (or the CLI) deletes the session: no poke reaches this
    process, the watcher's periodic read finds it."""
    member = login(client, "member1")
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=member) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        with world.store.read() as session, session.begin():
            session.delete(session.get_one(t.AuthSession, _hash(member)))
        _assert_ended(closing, time.monotonic(), SESSION_ENDED)


def test_a_revoked_invitation_closes_the_stream_opened_from_it(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    link = client.post(f"/api/meetings/{world.meeting_id}/invitations", json={"member_id": world.ids["member2"]}, headers=chair).json()
    opened = client.post(f"/join/{link['url'].rsplit('/', 1)[1]}", follow_redirects=False)
    cookie = {"Cookie": f"meeting_room_session={opened.cookies['meeting_room_session']}", **ORIGIN}
    client.cookies.clear()
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=cookie) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        assert client.delete(f"/api/meetings/{world.meeting_id}/invitations/{link['id']}", headers=chair).status_code == 204
        _assert_ended(closing, time.monotonic(), SESSION_ENDED)


def test_a_session_from_an_invitation_ends_with_its_meeting(client: TestClient, world: World) -> None:
    """An invitation link lets its holder take part in the meeting, not read its record afterwards
    (found by an attacker's probe: the socket and the API stayed open after the meeting closed); the
    member's own login goes on."""
    chair = login(client, "chair")
    link = client.post(f"/api/meetings/{world.meeting_id}/invitations", json={"member_id": world.ids["member2"]}, headers=chair).json()
    opened = client.post(f"/join/{link['url'].rsplit('/', 1)[1]}", follow_redirects=False)
    cookie = {"Cookie": f"meeting_room_session={opened.cookies['meeting_room_session']}", **ORIGIN}
    client.cookies.clear()
    own = login(client, "member2")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, state)
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=cookie) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        assert client.get(f"/api/meetings/{world.meeting_id}", headers=cookie).status_code == 200
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.CLOSED)
        _assert_ended(closing, time.monotonic(), MEETING_ENDED)
    refused = client.get(f"/api/meetings/{world.meeting_id}", headers=cookie)
    assert refused.status_code == 401 and "Cuộc họp đã kết thúc" in refused.json()["error"]["message"]
    assert refused.json()["error"]["code"] == "meeting_ended"
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=own).status_code == 200


def test_a_link_s_stream_gets_the_close_and_nothing_after_it_without_waiting_for_the_watcher(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher's round ends a link's session up to 0.5 s after its meeting closed, and what was
    committed meanwhile still reached the socket: now the close itself is the last it is sent."""
    chair = login(client, "chair")
    link = client.post(f"/api/meetings/{world.meeting_id}/invitations", json={"member_id": world.ids["member2"]}, headers=chair).json()
    opened = client.post(f"/join/{link['url'].rsplit('/', 1)[1]}", follow_redirects=False)
    cookie = {"Cookie": f"meeting_room_session={opened.cookies['meeting_room_session']}", **ORIGIN}
    client.cookies.clear()
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, state)
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=cookie) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        _first_checks_done(client)
        with _watcher_held(monkeypatch, auth, "resolve_hashes"):  # a loaded server: its round comes late
            meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.CLOSED)
            code, reason, _ = closing.closed(seconds=8)  # before the watcher is let go
    assert (code, reason) == (MEETING_ENDED.code, MEETING_ENDED.reason)
    sent = [m["event"] for m in closing.messages if m["kind"] == "event"]
    assert sent[-1]["type"] == "meeting.state_changed" and sent[-1]["data"]["to_state"] == "closed"
    assert closing.messages[-1] == {"kind": "error", "error": MEETING_ENDED.error()}


def test_a_hall_display_says_its_meeting_ended_not_that_its_link_went_away(client: TestClient, world: World) -> None:
    """Closing a meeting ends its display links; the screen is told why, so that it shows the meeting's
    end even when its session ends before the meeting's last view reaches it (seen under load)."""
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, state)
    display = invitations.create_display(world.store, world.actor("secretary"), world.meeting_id, hours=1)
    another = invitations.create_display(world.store, world.actor("secretary"), world.meeting_id, hours=1)
    invitations.revoke(world.store, world.actor("secretary"), world.meeting_id, another.id)
    client.cookies.clear()
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/hall/stream?token={display.token}", headers=ORIGIN) as ws:
        assert ws.receive_json()["kind"] == "hall"
        closing = Closing(ws)
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.CLOSED)
        _assert_ended(closing, time.monotonic(), MEETING_ENDED)
    refused = client.get(f"/api/meetings/{world.meeting_id}/hall", headers={"Authorization": f"Bearer {display.token}"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "meeting_ended", refused.text
    revoked = client.get(f"/api/meetings/{world.meeting_id}/hall", headers={"Authorization": f"Bearer {another.token}"})
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "authentication_required", revoked.text


def test_a_renamed_member_keeps_the_stream_and_other_sessions_are_untouched(client: TestClient, world: World) -> None:
    member2 = login(client, "member2")
    with _two_streams(client, world, login(client, "member1"), member2) as (first, second):
        _admin_patch(client, world, "member1", full_name="Người member1 (đổi tên)")()
        assert client.post("/api/auth/logout", headers=member2).status_code == 204
        second.closed()
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.OPEN)
        wait_for("member1's stream to go on", _saw(first, "meeting.state_changed"), 10)
    assert client_runtime(client).live.count() == 0


def test_a_member_taken_off_the_meeting_loses_its_stream_and_the_others_keep_theirs(client: TestClient, world: World) -> None:
    """The session still holds, but the meeting is no longer theirs: what they followed stops (found by
    an attacker's probe: a removed participant's open socket kept receiving every event)."""
    member1 = login(client, "member1")
    with _two_streams(client, world, member1, login(client, "member2")) as (removed, kept):
        _first_checks_done(client)
        r = client.delete(f"/api/meetings/{world.meeting_id}/participants/{world.ids['member1']}", headers=login(client, "secretary"))
        assert r.status_code == 204, r.text
        _assert_ended(removed, time.monotonic(), ACCESS_LOST)
        wait_for("member2 to see the removal", _saw(kept, "meeting.participant_removed"), 10)
        assert not any(m.get("kind") == "error" for m in kept.messages)
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.OPEN)
        wait_for("member2's stream to go on", _saw(kept, "meeting.state_changed"), 10)
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=member1).status_code in (403, 404)  # and HTTP agrees


def test_a_secretary_replaced_on_the_meeting_is_asked_to_reconnect_without_the_officers_view(client: TestClient, world: World) -> None:
    """Replaced, the former secretary is still a participant (so may still follow), but their stream
    carried the officers' view (live tallies of named votes, reasons): it ends with 4409 and reconnects
    as a member (found in review)."""
    former = login(client, "secretary")
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=former) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        _first_checks_done(client)
        r = client.patch(f"/api/meetings/{world.meeting_id}", json={"secretary_id": world.ids["member1"]}, headers=login(client, "admin"))
        assert r.status_code == 200, r.text
        _assert_ended(closing, time.monotonic(), RIGHTS_CHANGED)
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=former) as ws:  # back, as a member
        _until_ready(ws)


@contextlib.contextmanager
def _watcher_held(monkeypatch: pytest.MonkeyPatch, target: object, name: str) -> Iterator[None]:
    """The watcher's next read of ``target.name`` waits until the block ends (a loaded server): what
    a stream sends meanwhile is the test."""
    real, release = getattr(target, name), threading.Event()

    def held(*args: Any) -> Any:
        # the watcher's thread ("asyncio_N" where it shared the loop's executor), not a request's
        if threading.current_thread().name.startswith(("live-sessions", "asyncio")):
            assert release.wait(10), "the test never released the watcher"
        return real(*args)

    monkeypatch.setattr(target, name, held)
    try:
        yield
    finally:
        release.set()


def _at_the_gate(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The types of the events streams were about to send, each listed as it reaches the gate (before
    the gate decides): a test waits for the one it needs there instead of sleeping, so a stream that
    sent it at once fails the test every time."""
    reached: list[str] = []
    real = events_route.Sender.event

    async def event(self: events_route.Sender, event: StoredEvent, *args: Any, **kwargs: Any) -> None:
        reached.append(event.type)
        await real(self, event, *args, **kwargs)

    monkeypatch.setattr(events_route.Sender, "event", event)
    return reached


def _vote_open(world: World) -> str:
    chair = world.actor("chair")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, chair, world.meeting_id, state)
    attendance.record(world.store, chair, world.meeting_id, world.ids["chair"], AttendanceStatus.PRESENT_IN_ROOM)
    poll_id = polls.create_poll(world.store, chair, world.meeting_id, polls.PollSpec(title="Thông qua dự toán"))
    polls.open_poll(world.store, chair, poll_id)
    polls.cast_ballot(world.store, chair, poll_id, ["yes"])
    return poll_id


@pytest.mark.parametrize("where", ["this server", "no poke"])
def test_a_clerk_stripped_of_the_role_never_gets_the_count_of_a_vote_closed_right_after(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """An attacker's probe: a record keeper's role removed, the vote closed at once; the old socket
    (the officers' view) got the ``poll.closed`` event with its count before the watcher's next read.
    A stream now sends nothing after such a change until the watcher has acted on it: also when no
    route poked the watcher (as for a change from another process: only its event on the bus)."""
    poll_id = _vote_open(world)
    reached = _at_the_gate(monkeypatch)
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=login(client, "clerk")) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        _first_checks_done(client)
        with _watcher_held(monkeypatch, auth, "resolve_hashes"):
            if where == "this server":
                _admin_patch(client, world, "clerk", roles=["guest"])()
            else:
                members.update_member(world.store, world.actor("admin"), ev.MemberUpdated(member_id=world.ids["clerk"], roles=[Role.GUEST]))
            polls.close_poll(world.store, world.actor("chair"), poll_id)
            wait_for("the stream about to send the vote's end", lambda: "poll.closed" in reached, 10)
        _assert_ended(closing, time.monotonic(), RIGHTS_CHANGED)
    assert not _saw(closing, "poll.closed")(), closing.messages
    overseer = client.get(f"/api/meetings/{world.meeting_id}/events", headers=login(client, "secretary")).json()["events"]
    assert overseer[-1]["type"] == "poll.closed" and overseer[-1]["data"]["result"]  # committed, and the count is in it


def test_a_removed_participant_s_stream_gets_nothing_committed_after_the_removal(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached = _at_the_gate(monkeypatch)
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=login(client, "member1")) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        _first_checks_done(client)
        with _watcher_held(monkeypatch, live_sessions, "_access_changes"):
            r = client.delete(f"/api/meetings/{world.meeting_id}/participants/{world.ids['member1']}", headers=login(client, "secretary"))
            assert r.status_code == 204, r.text
            meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.OPEN)
            wait_for(
                "the stream about to send what followed",
                lambda: bool({"meeting.participant_removed", "meeting.state_changed"} & set(reached)),
                10,
            )
        _assert_ended(closing, time.monotonic(), ACCESS_LOST)
    sent = [m["event"]["type"] for m in closing.messages if m["kind"] == "event"]
    assert "meeting.state_changed" not in sent and "meeting.participant_removed" not in sent, sent


def test_a_stream_whose_check_fails_sends_nothing_until_one_passes(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database busy when a change came: the socket's check could not run, so it cannot be told
    whether it still holds; what comes next waits for a check that ran (found in review: such a
    socket counted as checked, and was never checked again)."""
    member1 = login(client, "member1")
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=member1) as ws:
        _until_ready(ws)
        closing = Closing(ws)
        _first_checks_done(client)
        failing = threading.Event()
        failing.set()
        real = live_sessions._run_checks
        failed: list[int] = []

        def flaky(lives: list[Any]) -> dict[Any, Any]:
            if failing.is_set():
                failed.append(len(lives))
                return {}
            return real(lives)

        reached = _at_the_gate(monkeypatch)
        monkeypatch.setattr(live_sessions, "_run_checks", flaky)
        r = client.patch(f"/api/meetings/{world.meeting_id}", json={"title": "Phiên họp (đã đổi tên)"}, headers=login(client, "admin"))
        assert r.status_code == 200, r.text
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.OPEN)
        wait_for("the stream about to send the change", lambda: "meeting.updated" in reached, 10)
        n = len(failed)
        wait_for("three more rounds of the watcher, each check failing", lambda: len(failed) >= n + 3, 10)
        assert not _saw(closing, "meeting.updated")() and not _saw(closing, "meeting.state_changed")()
        failing.clear()
        wait_for("the events after a check that ran", _saw(closing, "meeting.state_changed"), 10)
    assert _saw(closing, "meeting.updated")()


def test_live_audio_closes_when_the_sender_logs_out(client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    captions = client_runtime(client).captions
    fed: list[object] = []
    monkeypatch.setattr(captions, "active", lambda meeting_id: "pass-1")
    monkeypatch.setattr(captions, "feed", lambda meeting_id, source, samples, rate, wall_time: fed.append(samples))
    monkeypatch.setattr(captions, "end_source", lambda *args: None)
    chair = login(client, "chair")
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/live/audio?source=ban-hop", headers=chair) as ws:
        assert ws.receive_json()["kind"] == "ready"
        ws.send_bytes(b"\x00\x00" * 1600)
        closing = Closing(ws)
        assert client.post("/api/auth/logout", headers=chair).status_code == 204
        _assert_ended(closing, time.monotonic(), SESSION_ENDED)
    assert fed


def _hash(headers: dict[str, str]) -> str:
    from meeting_room.auth import token_hash

    return token_hash(headers["Authorization"].removeprefix("Bearer "))


# --- a call over real WebRTC (uvicorn on loopback, an aiortc client peer) ---------------------------


@pytest.fixture
def call_server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The app on loopback with the meeting in session; a long call grace, so that only an ended
    session (not a dropped connection) can record the participant as left at once."""
    settings = _settings(tmp_path, call_loopback=True, call_grace_s=60)
    store = open_store(settings)
    world = make_world(store)
    app = create_app(settings, store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for("the server", lambda: server.started, 30)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            tokens = {
                who: c.post("/api/auth/login", json={"username": who, "password": PASSWORD}).json()["token"]
                for who in ("chair", "admin", "member1")
            }
            for target in ("open", "in_session"):
                r = c.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": target}, headers=_h(tokens["chair"]))
                assert r.status_code == 200, r.text
        yield {
            "base": base,
            "ws": f"ws://127.0.0.1:{port}/api/meetings/{world.meeting_id}/call",
            "world": world,
            "tokens": tokens,
            "app": app,
        }
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        store.engine.dispose()


def test_a_call_is_hung_up_and_its_socket_closed_when_the_account_is_disabled(call_server: dict[str, Any]) -> None:
    world, app = call_server["world"], call_server["app"]

    async def scenario() -> tuple[float, CallClient]:
        client = CallClient(call_server["ws"], call_server["tokens"]["member1"])
        await client.join()
        assert [c.member_id for c in app.state.runtime.calls.status(world.meeting_id)] == [world.ids["member1"]]
        admin = _h(call_server["tokens"]["admin"])
        async with httpx.AsyncClient(base_url=call_server["base"], timeout=30) as c:
            r = await c.patch(f"/api/members/{world.ids['member1']}", json={"active": False}, headers=admin)
            assert r.status_code == 200, r.text
        since = time.monotonic()
        ws = client._ws
        assert ws is not None
        while ws.close_code is None:
            assert time.monotonic() - since < 5, "the call socket is still open"
            await asyncio.sleep(0.02)
        took = time.monotonic() - since
        await client.drop()
        return took, client

    took, client = asyncio.run(scenario())
    assert took < 1.0, f"the call socket closed {took:.2f} s after the account was disabled"
    ws = client._ws
    assert ws is not None
    assert (ws.close_code, ws.close_reason) == (SESSION_ENDED.code, SESSION_ENDED.reason)
    assert {"type": "ended", "reason": "session_ended"} in client.messages
    assert {"type": "error", "error": SESSION_ENDED.error()} in client.messages
    assert app.state.runtime.calls.status(world.meeting_id) == []  # hung up on the server
    with world.store.read() as session:  # recorded as having left at once (not after the 60 s grace)
        record = session.get(t.Attendance, (world.meeting_id, world.ids["member1"]))
    assert record is not None and record.status == "left", record

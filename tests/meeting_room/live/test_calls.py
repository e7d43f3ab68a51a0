"""Remote participants with real WebRTC peers: the server (uvicorn, its aiortc peers) on loopback,
an aiortc client peer per participant joining through the signalling WebSocket. The room's input
is a 1 kHz tone (a file replayed as the room's microphone); the participant speaks Vietnamese.

Checked: they hear the room (energy at 1 kHz), their words are captioned under their own name,
they count as present online while connected, their vote is counted, a dropped connection that
comes back keeps their presence, leaving records them as left, and bad signalling is refused with
a message that says what is accepted."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest

from speech.audio import SAMPLE_RATE, read_all
from speech.models import ModelStore
from tests.meeting_room.call_server import ROOM_HZ, _h, serve_call, wait_for
from tests.speech_audio import speak
from webrtc.client import ArrayAudioTrack, CallClient
from webrtc.errors import SignallingError
from webrtc.mixer import RATE

GRACE_S = 5.0  # a dropped call back within this is no departure: long enough for a rejoin on a loaded machine


def band_energy(samples: np.ndarray, hz: float, rate: int = RATE, width: float = 30.0) -> float:
    """Share of the signal's energy within ±``width`` Hz of ``hz``."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(spectrum[np.abs(freqs - hz) <= width].sum() / max(spectrum.sum(), 1e-12))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, model_store: ModelStore) -> Iterator[dict[str, Any]]:
    with serve_call(tmp_path_factory.mktemp("calls"), model_store, call_grace_s=GRACE_S) as served:
        yield served


async def until(what: str, cond: Callable[[], object], seconds: float) -> None:
    """``wait_for`` on the test's event loop (its peers keep running meanwhile)."""
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _get(served: dict[str, Any], path: str, who: str = "chair") -> Any:
    r = httpx.get(served["base"] + path, headers=_h(served["tokens"][who]), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _attendance(served: dict[str, Any], who: str) -> dict[str, Any] | None:
    mid, world = served["world"].meeting_id, served["world"]
    rows: list[dict[str, Any]] = _get(served, f"/api/meetings/{mid}/attendance")["records"]
    return next((r for r in rows if r["member_id"] == world.ids[who]), None)


def _events(served: dict[str, Any], member_id: str) -> list[dict[str, Any]]:
    mid = served["world"].meeting_id
    events = _get(served, f"/api/meetings/{mid}/events?limit=5000")["events"]
    return [e for e in events if e["type"] == "attendance.recorded" and e["data"]["member_id"] == member_id]


def test_a_remote_member_hears_the_room_is_captioned_under_their_name_and_votes(served: dict[str, Any], tmp_path: Path) -> None:
    world, mid = served["world"], served["world"].meeting_id
    said = "Tôi đồng ý với dự thảo nghị quyết về ngân sách của tỉnh."
    voice = read_all(speak(tmp_path / "member1.wav", said, voice="vi+f3", pitch=75))
    at_48k = np.interp(np.arange(int(len(voice) * RATE / SAMPLE_RATE)) / RATE, np.arange(len(voice)) / SAMPLE_RATE, voice)
    speech = np.concatenate([np.zeros(RATE // 2), at_48k, np.zeros(RATE)]).astype(np.float32)

    async def call() -> CallClient:
        mic = ArrayAudioTrack()
        client = CallClient(served["ws"], served["tokens"]["member1"], audio=mic)
        await client.join()
        await until("2 s of the room's sound", lambda: sum(len(b) for _, b in client.heard.audio) >= 2 * RATE, 30)
        mic.play(speech)  # then speak (in real time: it takes as long as it lasts)
        await until("their words sent", lambda: mic.played, len(speech) / RATE + 30)
        return client

    def vote() -> dict[str, Any]:
        """While on the call, a vote runs; their ballot (sent as their page sends it) is counted."""
        chair, base = _h(served["tokens"]["chair"]), f"{served['base']}/api/meetings/{mid}/polls"
        motion = {"title": "Thông qua nghị quyết", "rule": {"preset": "hdnd_resolution"}, "agenda_item_id": world.item_ids[1]}
        poll = httpx.post(base, json=motion, headers=chair).json()
        opened = httpx.post(f"{base}/{poll['id']}/open", json={}, headers=chair)
        assert opened.status_code == 200, opened.text
        ballot = {"options": [poll["options"][0]["id"]]}
        r = httpx.post(f"{base}/{poll['id']}/ballots", json=ballot, headers=_h(served["tokens"]["member1"]))
        assert r.status_code == 201, r.text
        closed: dict[str, Any] = httpx.post(f"{base}/{poll['id']}/close", json={}, headers=chair).json()
        return closed

    async def scenario() -> tuple[CallClient, np.ndarray, dict[str, Any]]:
        client = await call()
        heard = client.heard.samples()
        # while on the call: present online; the call is listed; they vote
        online = await asyncio.to_thread(_attendance, served, "member1")
        calls = await asyncio.to_thread(_get, served, f"/api/meetings/{mid}/calls")
        poll = await asyncio.to_thread(vote)
        await client.leave()
        return client, heard, {"online": online, "calls": calls, "poll": poll}

    client, heard, seen = asyncio.run(scenario())
    assert seen["poll"]["ballots_cast"] == 1, seen["poll"]
    assert len(heard) >= 2 * RATE, f"heard only {len(heard) / RATE:.1f} s of audio"
    share = band_energy(heard[-2 * RATE :], ROOM_HZ)
    assert share > 0.5, f"the room's 1 kHz tone is {share:.0%} of what the participant heard"
    assert seen["online"]["status"] == "present_online" and seen["online"]["source"] == "online", seen
    assert [c["name"] for c in seen["calls"]["calls"]] == ["Người member1"] and seen["calls"]["calls"][0]["state"] == "connected"

    def lines() -> list[dict[str, Any]]:
        return [ln for ln in _get(served, f"/api/meetings/{mid}/transcript", "member2")["lines"] if ln["speaker"] == "Người member1"]

    mine = wait_for("the remote member's captions", lines, 180)  # behind the room's own on a loaded machine
    text = " ".join(ln["text"] for ln in mine).lower()
    # what was said is transcribed (words, not a model's exact wording of robotic speech heard
    # through a loaded 2-core machine's WebRTC path: that varies run to run)
    assert len(text.split()) >= 3 and any(c.isalpha() for c in text), mine
    # left on purpose: recorded as left, at once
    assert wait_for("left", lambda: (_attendance(served, "member1") or {}).get("status") == "left", 10)


def test_a_dropped_call_that_comes_back_keeps_the_presence(served: dict[str, Any]) -> None:
    member_id = served["world"].ids["member2"]

    def statuses() -> list[str]:
        return [e["data"]["status"] for e in _events(served, member_id)]

    def online() -> bool:
        return (_attendance(served, "member2") or {}).get("status") == "present_online"

    async def scenario() -> None:
        first = CallClient(served["ws"], served["tokens"]["member2"])
        await first.join()
        await asyncio.to_thread(wait_for, "online", online, 20)
        dropped = time.monotonic()
        await first.drop()  # the Wi-Fi goes; back within the grace period
        second = CallClient(served["ws"], served["tokens"]["member2"])
        await second.join()
        assert time.monotonic() - dropped < GRACE_S, "the rejoin took longer than the grace period: nothing to test"
        assert await asyncio.to_thread(statuses) == ["present_online"]  # no left, no second presence
        # the dropped call's grace period runs out while the second call is on: it must find them back
        # (an absence is asserted: the wait is the timer's own deadline)
        await asyncio.sleep(dropped + GRACE_S + 1.0 - time.monotonic())
        assert await asyncio.to_thread(statuses) == ["present_online"]  # the drop and the return wrote nothing
        await second.drop()  # gone for good this time

    asyncio.run(scenario())
    assert wait_for("left after the grace period", lambda: (_attendance(served, "member2") or {}).get("status") == "left", GRACE_S + 15)
    assert statuses() == ["present_online", "left"]


def test_signalling_refuses_what_it_cannot_use(served: dict[str, Any]) -> None:
    from websockets.sync.client import connect

    with connect(served["ws"], additional_headers=_h(served["tokens"]["member1"])) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        ws.send("not json")
        err = json.loads(ws.recv(timeout=10))
        assert err["type"] == "error" and "JSON" in err["error"]["message_en"], err
        ws.send(json.dumps({"type": "offer", "sdp": "v=0 garbage"}))
        err = json.loads(ws.recv(timeout=10))
        assert err["error"]["code"] == "invalid_signalling" and "SDP" in err["error"]["message_en"], err
        ws.send(json.dumps({"type": "dance"}))
        err = json.loads(ws.recv(timeout=10))
        assert "offer, mute" in err["error"]["message_en"] and "chấp nhận" in err["error"]["message"], err
    # someone who is not a participant is refused before any media
    with connect(served["ws"], additional_headers=_h(served["tokens"]["outsider"])) as ws:
        err = json.loads(ws.recv(timeout=10))
        assert err["type"] == "error" and err["error"]["code"] == "not_found", err
    # nobody logged in
    with connect(served["ws"]) as ws:
        err = json.loads(ws.recv(timeout=10))
        assert err["error"]["code"] == "authentication_required" or "Authentication" in err["error"]["message_en"], err

    async def bad_client() -> None:
        client = CallClient(served["ws"], served["tokens"]["outsider"])
        with pytest.raises(SignallingError):
            await client.join()

    asyncio.run(bad_client())


def test_who_joins_before_the_room_has_gone_live_still_gets_its_camera(settings, world) -> None:  # noqa: ANN001 - the conftest fixtures
    from meeting_room.lifecycle import MeetingState
    from meeting_room.live.calls import Calls
    from meeting_room.live.live_captions import LiveCaptions
    from meeting_room.services import meetings

    chair = world.actor("chair")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, chair, world.meeting_id, state)
    calls = Calls(world.store, settings, LiveCaptions(world.store, settings))

    async def prepared(camera_rooms: frozenset[str]) -> bool:
        calls.camera_rooms = camera_rooms
        _name, conf = await calls._prepare(world.actor("member1"), world.meeting_id)
        calls._conferences.clear()
        return conf.has_camera

    assert asyncio.run(prepared(frozenset())) is False  # no room with a camera: audio only
    assert asyncio.run(prepared(frozenset({"another-room"}))) is False
    assert asyncio.run(prepared(frozenset({world.room_id}))) is True  # the room's camera, before the room runner says so


def test_a_remote_voice_reaches_the_captions_100_ms_at_a_time_and_nothing_is_held_back(settings, world) -> None:  # noqa: ANN001 - the conftest fixtures
    """Fed 20 ms at a time, a voice would wake its caption thread 50 times a second; it goes in
    100 ms pieces stamped with their first packet's time, and what waits goes in when they mute
    and when they hang up."""
    from meeting_room.live.calls import Call, Calls
    from meeting_room.live.live_captions import LiveCaptions
    from webrtc.mixer import FRAME, Mixer

    fed: list[tuple[int, float]] = []

    class Captions(LiveCaptions):  # records what the calls hand on (the captions themselves are tested on their own)
        def active(self, meeting_id: str) -> str | None:
            return "live"

        def feed(self, meeting_id: str, source: Any, samples: np.ndarray, rate: int, wall_time: float) -> None:
            assert source.member_id == "member1" and rate == RATE
            fed.append((len(samples), round(wall_time, 2)))

        def end_source(self, meeting_id: str, source: Any) -> None:
            pass

    class Peer:
        receiving_video = False

        async def close(self) -> None:
            pass

    calls = Calls(world.store, settings, Captions(world.store, settings))
    leg = Mixer().add("call:member1")
    call = Call(world.meeting_id, "member1", "Đại biểu", Peer(), leg, notify=None)  # type: ignore[arg-type]
    packet = np.full(FRAME, 0.1, np.float32)
    for i in range(12):
        calls._heard(call, packet, 100.0 + 0.02 * i)
    assert fed == [(5 * FRAME, 100.0), (5 * FRAME, 100.1)]
    leg.muted = True
    calls._heard(call, packet, 100.24)  # muted: what waited goes in, this does not
    assert fed[2:] == [(2 * FRAME, 100.2)]
    leg.muted = False
    for i in range(3):
        calls._heard(call, packet, 101.0 + 0.02 * i)
    calls.mute(call, True)  # their own switch: what they said before it goes in at once
    assert fed[3:] == [(3 * FRAME, 101.0)]
    calls.mute(call, False)
    for i in range(2):
        calls._heard(call, packet, 102.0 + 0.02 * i)
    asyncio.run(calls.hang_up(call, "left", tell=False))
    assert fed[4:] == [(2 * FRAME, 102.0)] and leg.stats.received_s == pytest.approx(18 * FRAME / RATE)


def test_a_join_under_way_when_the_meeting_ends_is_refused_not_left_on_a_stopped_mixer(settings, world) -> None:  # noqa: ANN001 - the conftest fixtures
    """The checks pass, then the join waits (here: for its face check to start) while the chair
    closes the meeting: the call does not end up in the ended conference, connected to a mixer that
    no longer runs and that nobody would hang up."""
    import threading

    from aiortc import RTCPeerConnection

    from meeting_room.errors import ConflictError
    from meeting_room.lifecycle import MeetingState
    from meeting_room.live.calls import Calls
    from meeting_room.live.live_captions import LiveCaptions
    from meeting_room.services import meetings

    chair = world.actor("chair")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, chair, world.meeting_id, state)
    calls = Calls(world.store, settings, LiveCaptions(world.store, settings))
    waiting, go_on = threading.Event(), threading.Event()

    def slow_watch(meeting_id: str, member_id: str) -> None:
        waiting.set()
        go_on.wait(30)

    calls.face_checks.watch = slow_watch  # type: ignore[method-assign]

    async def scenario() -> None:
        client = RTCPeerConnection()
        client.addTransceiver("audio")
        await client.setLocalDescription(await client.createOffer())
        join = asyncio.ensure_future(calls.join(world.actor("member1"), world.meeting_id, client.localDescription.sdp, notify=None))  # type: ignore[arg-type]
        await until("the join is waiting", waiting.is_set, 30)
        conf = calls._conferences[world.meeting_id]
        await calls.end_meeting(world.meeting_id)
        go_on.set()
        with pytest.raises(ConflictError, match="ended while you were joining"):
            await join
        assert conf.calls == {} and world.meeting_id not in calls._conferences
        assert "member:" + world.actor("member1").member_id not in conf.mixer._legs
        await client.close()

    try:
        asyncio.run(scenario())
    finally:
        go_on.set()


def test_a_join_whose_meeting_closes_before_it_has_a_conference_is_refused_and_leaves_none(settings, world) -> None:  # noqa: ANN001 - the conftest fixtures
    """The checks pass, then the live captions start (slow: a model loads) while the chair closes a
    meeting nobody had joined yet, so that there was no conference to end: the join is refused and
    no conference, with its mixer running, is left behind for the closed meeting (an attacker's probe)."""
    import threading

    from meeting_room.errors import ConflictError
    from meeting_room.lifecycle import MeetingState
    from meeting_room.live.calls import Calls
    from meeting_room.live.live_captions import LiveCaptions
    from meeting_room.services import meetings

    chair = world.actor("chair")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, chair, world.meeting_id, state)
    calls = Calls(world.store, settings, LiveCaptions(world.store, settings))

    def closed_meanwhile(_actor: object, meeting_id: str) -> None:  # instead of loading the captions' models
        meetings.transition(world.store, chair, meeting_id, MeetingState.CLOSED)

    calls.captions.start = closed_meanwhile  # type: ignore[method-assign,assignment]
    mixer = f"mixer-{world.meeting_id[:8]}"

    async def scenario() -> None:
        with pytest.raises(ConflictError, match="chỉ tham gia trực tuyến được khi cuộc họp đã khai mạc"):
            await calls.join(world.actor("member1"), world.meeting_id, "v=0", notify=None)  # type: ignore[arg-type]
        assert world.meeting_id not in calls._conferences
        await until("its mixer stopped", lambda: all(t.name != mixer for t in threading.enumerate()), 30)

    asyncio.run(scenario())

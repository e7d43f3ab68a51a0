"""Remote participants through the Janus SFU: the server runs Debian's janus (its own configuration,
loopback APIs, generated secrets), publishes the room (a 1 kHz tone) into the meeting's Janus
room, and admits each aiortc client with a token of its own through its relay socket.

Checked: the client hears the room through Janus, their words are captioned under their own name
(the server subscribes to their own feed), they vote, leaving records them as left and revokes
their token; nobody gets into the room without the server's word; Janus killed mid-call ends the
call with ``sfu_lost`` and the client gets back in once the server has restarted Janus."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest

from speech.audio import SAMPLE_RATE, read_all
from speech.models import ModelStore
from tests import needs
from tests.conftest import PASSWORD
from tests.meeting_room.call_server import ROOM_HZ, _h, serve_call, wait_for
from tests.meeting_room.live.test_calls import _attendance, _get, band_energy, until
from tests.speech_audio import speak
from webrtc.client import ArrayAudioTrack, CallClient
from webrtc.janus import JanusAdmin, JanusError, JanusSession, free_port
from webrtc.mixer import RATE


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, model_store: ModelStore) -> Iterator[dict[str, Any]]:
    needs.janus()
    extra = {
        "janus": "run",
        "janus_min_participants": 0,
        "janus_ws_port": free_port(),
        "janus_admin_port": free_port(),
        "call_grace_s": 5.0,
    }
    with serve_call(tmp_path_factory.mktemp("janus"), model_store, **extra) as served:
        sfu = served["app"].state.runtime.calls.sfu
        wait_for("Janus running", lambda: sfu.state.value == "running", 30)
        yield served


def _sfu(served: dict[str, Any]) -> Any:
    return served["app"].state.runtime.calls.sfu


def test_janus_is_configured_for_loopback_with_secrets_kept_private(served: dict[str, Any]) -> None:
    sfu = _sfu(served)
    folder: Path = sfu.folder
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for f in [*folder.glob("*.jcfg"), sfu.secrets_file]:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    core = (folder / "janus.jcfg").read_text()
    assert "token_auth = true" in core and "stun_server" not in core  # no public STUN
    ws = (folder / "janus.transport.websockets.jcfg").read_text()
    assert ws.count('"127.0.0.1"') == 2  # the API and the Admin API on loopback only
    health = httpx.get(served["base"] + "/api/health", headers=_h(served["tokens"]["chair"]), timeout=30).json()
    assert health["janus"] == {"state": "running"}, health
    assert {"room": "máy chủ / server", "kind": "sfu", "name": "janus", "state": "running"} in health["devices"]


def test_nobody_reaches_janus_without_the_servers_word(served: dict[str, Any]) -> None:
    sfu = _sfu(served)

    async def attempts() -> list[str]:
        refused = []
        for token in (None, "guessed-token"):  # straight to Janus's loopback port: no secret, a made-up token
            try:
                await JanusSession(sfu.options.url, token=token).connect()
            except JanusError as exc:
                refused.append(exc.message_en)
        relay = served["ws"].replace("/call", "/janus")  # the relay, by a member with no call through Janus
        try:
            await JanusSession(relay, headers={"Authorization": f"Bearer {served['tokens']['member2']}"}).connect()
        except JanusError as exc:
            refused.append(exc.message_en)
        return refused

    refused = asyncio.run(attempts())
    assert len(refused) == 3, refused
    # and the relay refuses what only the server may do: creating or destroying rooms, another feed id
    from meeting_room.api.routes.calls import _vetted

    def vet(body: dict[str, object]) -> dict[str, object] | str:
        return _vetted({"janus": "message", "body": body}, "t", 7, 101, "x")

    assert isinstance(vet({"request": "destroy", "room": 7}), str)
    assert isinstance(vet({"request": "join", "ptype": "subscriber", "room": 8}), str)
    joined = vet({"request": "join", "ptype": "publisher", "room": 7, "id": 1, "display": "room"})
    assert isinstance(joined, dict)
    assert joined["body"] == {"request": "join", "ptype": "publisher", "room": 7, "id": 101, "display": "x", "token": "t"}
    assert isinstance(_vetted({"janus": "attach", "plugin": "janus.plugin.streaming"}, "t", 7, 101, "x"), str)


def test_a_member_through_janus_hears_the_room_is_captioned_votes_and_leaves(served: dict[str, Any], tmp_path: Path) -> None:
    world, mid = served["world"], served["world"].meeting_id
    said = "Tôi đồng ý với dự thảo nghị quyết về ngân sách của tỉnh."
    voice = read_all(speak(tmp_path / "member1.wav", said, voice="vi+f3", pitch=75))
    at_48k = np.interp(np.arange(int(len(voice) * RATE / SAMPLE_RATE)) / RATE, np.arange(len(voice)) / SAMPLE_RATE, voice)
    speech = np.concatenate([np.zeros(RATE // 2), at_48k, np.zeros(RATE)]).astype(np.float32)
    sfu = _sfu(served)

    def vote() -> dict[str, Any]:
        chair, base = _h(served["tokens"]["chair"]), f"{served['base']}/api/meetings/{mid}/polls"
        motion = {"title": "Thông qua nghị quyết", "rule": {"preset": "hdnd_resolution"}, "agenda_item_id": world.item_ids[1]}
        poll = httpx.post(base, json=motion, headers=chair).json()
        assert httpx.post(f"{base}/{poll['id']}/open", json={}, headers=chair).status_code == 200
        r = httpx.post(
            f"{base}/{poll['id']}/ballots", json={"options": [poll["options"][0]["id"]]}, headers=_h(served["tokens"]["member1"])
        )
        assert r.status_code == 201, r.text
        closed: dict[str, Any] = httpx.post(f"{base}/{poll['id']}/close", json={}, headers=chair).json()
        return closed

    async def scenario() -> dict[str, Any]:
        mic = ArrayAudioTrack()
        client = CallClient(served["ws"], served["tokens"]["member1"], audio=mic)
        await client.join(timeout=30)
        assert client.janus is not None, "the meeting goes through Janus"
        # another session of the same member (a second login, or their invitation link in other hands)
        # gets no relay into their call: it would subscribe to every feed without being on the call list
        login = {"username": "member1", "password": PASSWORD}
        other = (await asyncio.to_thread(httpx.post, f"{served['base']}/api/auth/login", json=login)).json()["token"]
        relay = served["ws"].replace("/call", "/janus")
        try:
            await JanusSession(relay, headers={"Authorization": f"Bearer {other}"}).connect()
            stolen = "a Janus session through the relay"
        except JanusError as exc:
            stolen = f"refused: {exc.message_en}"
        await until("2 s of the room's sound", lambda: sum(len(b) for _, b in client.heard.audio) >= 2 * RATE, 30)
        heard = client.heard.samples()
        mic.play(speech)
        await until("their words sent", lambda: mic.played, len(speech) / RATE + 30)
        online = await asyncio.to_thread(_attendance, served, "member1")
        calls = await asyncio.to_thread(_get, served, f"/api/meetings/{mid}/calls")
        poll = await asyncio.to_thread(vote)
        admin = JanusAdmin(sfu.options.admin_url, sfu.keys.admin_secret)  # Janus's own view of who may connect
        await admin.connect()
        tokens_before = await admin.list_tokens()
        sessions_before = await admin.list_sessions()
        await client.leave()
        left: list[str] = tokens_before
        deadline = time.monotonic() + 10
        while left and time.monotonic() < deadline:
            left = await admin.list_tokens()
            await asyncio.sleep(0.1)
        sessions_after = await admin.list_sessions()
        await admin.close()
        return {
            "heard": heard, "online": online, "calls": calls, "poll": poll, "tokens": tokens_before, "tokens_after": left,
            "sessions": sessions_before, "sessions_after": sessions_after, "stolen": stolen,
        }  # fmt: skip

    seen = asyncio.run(scenario())
    assert seen["stolen"].startswith("refused") and "403" in seen["stolen"], seen["stolen"]  # the relay's refusal, not a timeout
    assert seen["poll"]["ballots_cast"] == 1, seen["poll"]
    share = band_energy(seen["heard"][-2 * RATE :], ROOM_HZ)
    assert share > 0.5, f"the room's 1 kHz tone is {share:.0%} of what the participant heard through Janus"
    assert seen["online"]["status"] == "present_online", seen["online"]
    assert [c["name"] for c in seen["calls"]["calls"]] == ["Người member1"]
    assert len(seen["tokens"]) == 1 and seen["tokens_after"] == [], seen  # their token while on the call; revoked when they left
    # their Janus session (publisher and subscriptions) destroyed with the call: the server's own remains
    assert len(seen["sessions"]) == 2 and seen["sessions_after"] == [sfu.session.id], seen

    def lines() -> list[dict[str, Any]]:
        return [ln for ln in _get(served, f"/api/meetings/{mid}/transcript", "member2")["lines"] if ln["speaker"] == "Người member1"]

    mine = wait_for("the member's captions, heard through Janus", lines, 180)
    text = " ".join(ln["text"] for ln in mine).lower()
    assert len(text.split()) >= 3 and any(c.isalpha() for c in text), mine
    assert wait_for("left", lambda: (_attendance(served, "member1") or {}).get("status") == "left", 10)


def test_janus_killed_mid_call_ends_the_call_and_the_member_gets_back_in(served: dict[str, Any]) -> None:
    sfu = _sfu(served)

    async def scenario() -> tuple[CallClient, CallClient]:
        first = CallClient(served["ws"], served["tokens"]["member2"])
        await first.join(timeout=30)
        await until("the room's sound", lambda: len(first.heard.audio) > 10, 30)
        await asyncio.to_thread(sfu.process.kill)
        await until("told the call ended", lambda: any(m.get("reason") == "sfu_lost" for m in first.messages), 20)
        await first.drop()
        await asyncio.to_thread(wait_for, "Janus restarted", lambda: sfu.state.value == "running", 30)
        second = CallClient(served["ws"], served["tokens"]["member2"])
        await second.join(timeout=30)
        await until("the room's sound again", lambda: len(second.heard.audio) > 10, 30)
        await second.leave()
        return first, second

    first, second = asyncio.run(scenario())
    ended = [m for m in first.messages if m.get("type") == "ended"]
    assert ended and ended[0]["reason"] == "sfu_lost", first.messages
    assert "connected" in second.states

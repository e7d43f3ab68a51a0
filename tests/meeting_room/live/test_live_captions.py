"""One live pass, one clock: the room's microphone, the audio WebSocket and a replayed recording
feed the same pass, and the same speech said at the same wall-clock time lands at the same time
of the pass, whichever way it came (with the real Whisper base)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from meeting_room import transcript_reads
from meeting_room.live.live_captions import AudioSource
from meeting_room.server import open_store
from speech.audio import SAMPLE_RATE, read_all
from tests.conftest import World, _settings, login, make_world
from tests.meeting_room.call_server import wait_for
from tests.speech_audio import speak, write_wav

ROOM_RATE = 48_000
LEAD_S = 1.0  # silence before the speech in every source
EARLY_S = 30.0  # the pass began this long before the speech: a source counting from 0 would be off by as much


@pytest.fixture
def served(tmp_path: Path, model_store) -> Iterator[tuple[TestClient, World]]:  # type: ignore[no-untyped-def]
    settings = _settings(tmp_path, models_dir=model_store.root, asr_temperature_fallback=False)
    store = open_store(settings)
    world = make_world(store)
    from meeting_room.api.app import create_app

    with TestClient(create_app(settings, store)) as client:
        yield client, world
    store.engine.dispose()


def _pcm(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def test_room_socket_and_replay_captions_share_the_pass_clock(tmp_path: Path, served: tuple[TestClient, World]) -> None:
    client, world = served
    mid, chair = world.meeting_id, login(client, "chair")
    clip = read_all(speak(tmp_path / "a.wav", "Tôi xin khai mạc kỳ họp thứ nhất của hội đồng nhân dân tỉnh."))
    audio = np.concatenate([np.zeros(int(LEAD_S * SAMPLE_RATE), np.float32), clip, np.zeros(SAMPLE_RATE, np.float32)])
    captions = client.app.state.runtime.captions  # type: ignore[attr-defined]
    origin = time.time() - EARLY_S  # as the room runner starts a pass resumed after a restart
    pass_id = captions.start(None, mid, {0: world.ids["chair"]}, origin=origin)  # the room's seat 0 is the chair

    def lines() -> list[transcript_reads.Line]:
        with world.store.read() as session:
            return transcript_reads.lines(session, pass_id)

    # the same speech at the same moment: member1 over the audio WebSocket (as it arrives), and the
    # room's microphone (a stereo 48 kHz input, the chair's seat on channel 0, blocks stamped with
    # their capture time, as the room runner passes them on)
    token = login(client, "member1")["Authorization"].split()[1]
    with client.websocket_connect(f"/api/meetings/{mid}/live/audio?token={token}&remote=true") as ws:
        assert ws.receive_json()["kind"] == "ready"
        said = time.time()
        step = SAMPLE_RATE // 50
        for i in range(0, len(audio), step):
            ws.send_bytes(_pcm(audio[i : i + step]))
    room = np.interp(np.arange(len(audio) * 3) / 3, np.arange(len(audio)), audio).astype(np.float32)
    stereo = np.stack([room, np.zeros_like(room)], axis=1)
    block = ROOM_RATE // 50
    for i in range(0, len(stereo), block):
        captions.feed(mid, AudioSource("ban-hop", 0), stereo[i : i + block, 0], ROOM_RATE, said + i / ROOM_RATE)
    captions.end_source(mid, AudioSource("ban-hop", 0))
    both = {"Người chair", "Người member1"}
    heard = wait_for("the room's and the socket's lines", lambda: {ln.speaker for ln in lines()} >= both and lines())
    first = {who: min(ln.start for ln in heard if ln.speaker == who) for who in both}
    expected = said - origin + LEAD_S
    assert abs(first["Người chair"] - first["Người member1"]) <= 0.5, first
    assert all(expected - 0.8 <= start <= expected + 0.5 for start in first.values()), (expected, first)

    # a stored recording replayed into the same pass starts where the pass's clock stands when it is played
    files = {"file": ("a.wav", write_wav(tmp_path / "padded.wav", audio).read_bytes(), "audio/wav")}
    recording = client.post(f"/api/meetings/{mid}/recordings", files=files, headers=chair).json()["recording_id"]
    before = {ln.id for ln in lines()}
    played = time.time()
    r = client.post(f"/api/meetings/{mid}/live/replay", json={"recording_id": recording, "speed": 4, "channel": 0}, headers=chair)
    assert r.status_code == 202 and r.json()["pass_id"] == pass_id
    expected = played - origin + LEAD_S
    later = wait_for("the replay's line", lambda: [ln for ln in lines() if ln.id not in before and ln.speaker == "Người chair"])
    assert expected - 0.8 <= min(ln.start for ln in later) <= expected + 0.5, (expected, later)
    assert captions.stop(None, mid) == pass_id

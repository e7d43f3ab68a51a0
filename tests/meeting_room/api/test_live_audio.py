"""Live captions through the API with the real models: audio streamed over the audio WebSocket, and a
stored recording replayed, reach the meeting's transcript and stream."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from speech.audio import SAMPLE_RATE
from tests.conftest import TwoVoices, World, login
from tests.meeting_room.api.audio_uploads import enrol_voices, pcm, upload_recording, wav_bytes
from tests.meeting_room.call_server import wait_for


def test_live_captions_from_streamed_audio_reach_the_meeting_stream(sclient: TestClient, sworld: World, two_voices: TwoVoices) -> None:
    enrol_voices(sclient, sworld, two_voices)
    chair = login(sclient, "chair")
    token = chair["Authorization"].split()[1]
    base = f"/api/meetings/{sworld.meeting_id}"
    with sclient.websocket_connect(f"{base}/live/audio?token={token}") as ws:
        assert ws.receive_json()["kind"] == "error"  # captions not started yet
    assert sclient.post(f"{base}/live/start", json={}, headers=login(sclient, "member1")).status_code == 403
    pass_id = sclient.post(f"{base}/live/start", json={}, headers=chair).json()["pass_id"]
    assert sclient.post(f"{base}/live/start", json={}, headers=chair).json()["pass_id"] == pass_id  # idempotent
    seen: list[dict[str, Any]] = []
    with sclient.websocket_connect(f"{base}/stream?token={token}") as viewer:
        while viewer.receive_json()["kind"] != "ready":
            pass
        with sclient.websocket_connect(f"{base}/live/audio?token={token}&source=mic") as mic:
            assert mic.receive_json()["kind"] == "ready"
            mic.send_bytes(b"\x01")  # an odd byte: refused, the socket stays
            assert mic.receive_json()["error"]["code"] == "invalid_audio"
            mic.send_bytes(b"\x00\x00" * 3 * SAMPLE_RATE)  # 3 s in one frame: a flood for the shared decoder, dropped
            assert mic.receive_json()["error"]["code"] == "frame_too_long"
            audio = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), two_voices["audio"], np.zeros(SAMPLE_RATE, np.float32)])
            step, began = SAMPLE_RATE // 10, time.monotonic()
            for i in range(0, len(audio), step):
                mic.send_bytes(pcm(audio[i : i + step]))
                # at the pace of a microphone: partials are decoded while someone speaks, and a
                # burst faster than real time leaves the shared decoder no time for them (by design)
                time.sleep(max(0.0, began + (i + step) / SAMPLE_RATE - time.monotonic()))
            assert sclient.post(f"{base}/live/stop", json={}, headers=chair).json()["pass_id"] == pass_id
            mic.send_bytes(pcm(np.zeros(step, np.float32)))  # a microphone still sending: told, and closed cleanly
            assert mic.receive_json()["error"]["code"] == "captions_stopped"
            assert mic.receive() == {"type": "websocket.close", "code": 1000, "reason": "captions stopped"}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = viewer.receive_json()
            seen.append(message)
            if message.get("kind") == "event" and message["event"]["type"] == "transcript.pass_ended":
                break
    segments = [m["event"]["data"] for m in seen if m.get("kind") == "event" and m["event"]["type"] == "transcript.segment"]
    assert len(segments) >= 3 and all(s["pass_id"] == pass_id for s in segments)
    assert any(m.get("kind") == "caption" and not m["final"] for m in seen), "no partial caption arrived"
    named = [m["event"]["data"] for m in seen if m.get("kind") == "event" and m["event"]["type"] == "transcript.speakers"]
    assert {s["name"] for e in named for s in e["speakers"]} >= {"Người chair", "Người member1"}, named
    transcript = sclient.get(f"{base}/transcript", headers=chair).json()
    assert transcript["kind"] == "live" and transcript["state"] == "completed" and len(transcript["lines"]) == len(segments)


def test_a_recording_replayed_at_speed_is_captioned_to_its_end(sclient: TestClient, sworld: World, two_voices: TwoVoices) -> None:
    chair, member = login(sclient, "chair"), login(sclient, "member1")
    base = f"/api/meetings/{sworld.meeting_id}"
    recording = upload_recording(sclient, sworld, chair, wav_bytes(two_voices["audio"])).json()["recording_id"]
    body = {"recording_id": recording, "speed": 4, "channel": 0}
    assert sclient.post(f"{base}/live/replay", json=body, headers=member).status_code == 403
    assert sclient.post(f"{base}/live/replay", json={**body, "speed": 100}, headers=chair).status_code == 422
    assert sclient.post(f"{base}/live/replay", json={**body, "recording_id": "khong-co"}, headers=chair).status_code == 404
    assert sclient.post(f"{base}/live/stop", json={}, headers=chair).json()["pass_id"] is None  # a refused replay started nothing
    pass_id = sclient.post(f"{base}/live/start", json={"channels": {"0": sworld.ids["chair"]}}, headers=chair).json()["pass_id"]
    r = sclient.post(f"{base}/live/replay", json=body, headers=chair)
    assert r.status_code == 202 and r.json() == {"pass_id": pass_id}

    last_turn = two_voices["truth"][-1][0]  # where the recording's last sentence begins

    def heard_to_the_end() -> dict[str, Any]:
        transcript: dict[str, Any] = sclient.get(f"{base}/transcript", headers=chair).json()
        lines = transcript["lines"]
        return transcript if lines and lines[-1]["end"] - lines[0]["start"] >= last_turn else {}

    # the replay's thread ends once the file has played and its last words are captioned (on a
    # loaded 2-core machine the captions run well behind the 4x replay: a generous bound)
    def played() -> bool:
        return not any(recording[:8] in th.name for th in threading.enumerate())

    wait_for("the replay to reach the end of the file", played, 400)
    # its last words may still be in the captions' queue (the replay waits for them only so long)
    transcript = wait_for("captions of the whole recording", heard_to_the_end, 400)
    assert transcript["pass_id"] == pass_id and transcript["kind"] == "live" and transcript["state"] == "running"
    assert {ln["speaker"] for ln in transcript["lines"]} == {"Người chair"}  # the seat on channel 0
    # the meeting closes with the captions still on: they end with it (they ran on, and failed against the seal)
    state = sclient.get(base, headers=chair).json()["state"]
    for to in {"scheduled": ("open", "in_session", "closed"), "open": ("in_session", "closed")}.get(state, ("closed",)):
        r = sclient.post(f"{base}/transitions", json={"to": to}, headers=chair)
        assert r.status_code == 200, r.text
    wait_for(
        "the live pass to end with the meeting", lambda: sclient.get(f"{base}/transcript", headers=chair).json()["state"] == "completed", 60
    )
    assert sclient.post(f"{base}/live/stop", json={}, headers=chair).json()["pass_id"] is None  # nothing left running
    (done,) = [p for p in sclient.get(f"{base}/transcription", headers=chair).json() if p["pass_id"] == pass_id]
    assert done["audio_s"] >= last_turn  # the replay had ended before the stop: its length still counts

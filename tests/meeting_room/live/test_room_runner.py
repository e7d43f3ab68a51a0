"""A scripted meeting run end to end through the stand-in devices: a real-time virtual microphone
(PulseAudio null sink, read by sounddevice) carrying two seats' voices on two channels, and an
MJPEG IP camera on loopback (read by PyAV) showing two members. The room runs inside the server,
as `meeting-room run-room` runs it: members are recognised, each seat's speech is captioned under
its member's name, a vote runs through the API, the camera drops out and comes back (the chair is
told), the meeting closes, the recording is archived and the minutes are drafted."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from fastapi.testclient import TestClient

from hardware.mjpeg import MjpegServer
from meeting_room.server import open_store
from speech.audio import SAMPLE_RATE, read_all
from speech.models import ModelStore
from tests.conftest import _settings, login, make_world
from tests.face_photos import astronaut, hopper, jpeg_bytes, scene
from tests.pulse_audio import VirtualMicrophone, write_wav
from tests.speech_audio import speak

T = TypeVar("T")


def _wait(what: str, cond: Callable[[], T], seconds: float = 60.0) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _two_seats(folder: Path) -> tuple[Path, list[tuple[int, float, float]]]:
    """A stereo 16 kHz script: the chair on channel 0, then member1 on channel 1; (channel, start, end)."""
    chair = read_all(speak(folder / "a.wav", "Kính thưa các đại biểu, tôi xin khai mạc kỳ họp.", voice="vi", pitch=30))
    member = read_all(speak(folder / "b.wav", "Tôi đồng ý với dự thảo nghị quyết.", voice="vi+f3", pitch=75))
    pad = np.zeros(SAMPLE_RATE, np.float32)
    left = np.concatenate([pad, chair, pad, np.zeros_like(member), pad, pad])
    right = np.concatenate([pad, np.zeros_like(chair), pad, member, pad, pad])
    script = [(0, 1.0, 1.0 + len(chair) / SAMPLE_RATE), (1, 2.0 + len(chair) / SAMPLE_RATE, 2.0 + (len(chair) + len(member)) / SAMPLE_RATE)]
    return write_wav(folder / "two-seats.wav", np.stack([left, right], axis=1), SAMPLE_RATE), script


def test_a_meeting_runs_end_to_end_through_the_room_devices(
    tmp_path: Path, model_store: ModelStore, virtual_mic: VirtualMicrophone
) -> None:
    camera = MjpegServer([jpeg_bytes(scene([astronaut(), hopper()], face_width=300))], fps=5).start()
    port = camera.httpd.server_address[1]
    config = tmp_path / "room.toml"
    config.write_text(
        f"""room = "Phòng họp A"

[[microphones]]
name = "ban-hop"
device = "default"
channels = 2

[[seats]]
label = "A1"
channel = 0
member = "chair"

[[seats]]
label = "A2"
channel = 1
member = "member1"

[[cameras]]
name = "Toàn cảnh"
url = "{camera.url}"

[recording]
segment_s = 2
""",
        encoding="utf-8",
    )
    settings = _settings(tmp_path, models_dir=model_store.root, rooms=[config], face_workers=0, face_sightings=2, face_sample_fps=4)
    store = open_store(settings)
    world = make_world(store)
    mid = world.meeting_id
    from meeting_room.api.app import create_app

    app = create_app(settings, store)
    with TestClient(app) as client:
        runner = app.state.runtime.rooms[0]
        admin, chair = login(client, "admin"), login(client, "chair")
        for who, photo in (("chair", astronaut()), ("member1", hopper())):
            client.put(f"/api/members/{world.ids[who]}/biometric-consent", json={"given": True}, headers=admin)
            files = [("photo", ("p.jpg", jpeg_bytes(photo), "image/jpeg"))]
            assert client.post(f"/api/members/{world.ids[who]}/faces", files=files, headers=admin).status_code == 201
        devices = client.get(f"/api/rooms/{world.room_id}/devices", headers=chair).json()
        assert devices["run_here"] and devices["live_meeting_id"] is None
        assert {d["name"]: d["kind"] for d in devices["devices"]} == {"ban-hop": "microphone", "Toàn cảnh": "camera"}

        # the chair opens the meeting: the room goes live (recording, captions, cameras)
        for target in ("open", "in_session"):
            assert client.post(f"/api/meetings/{mid}/transitions", json={"to": target}, headers=chair).status_code == 200
        _wait("the room to go live", lambda: runner.live_meeting == mid, 20)

        # members are recognised by the camera
        def present() -> set[str]:
            rows = client.get(f"/api/meetings/{mid}/attendance", headers=chair).json()["records"]
            return {r["full_name"] for r in rows if r["status"] == "present_in_room" and r["source"] == "face"}

        assert _wait("face check-in", lambda: present() >= {"Người chair", "Người member1"}, 60)

        # the two seats speak into the room's microphone channels
        script_path, script = _two_seats(tmp_path)
        opened = time.time()
        virtual_mic.play(script_path).wait(timeout=60)

        def lines() -> list[dict[str, Any]]:
            got: list[dict[str, Any]] = client.get(f"/api/meetings/{mid}/transcript", headers=login(client, "member2")).json()["lines"]
            return got

        _wait("both seats' captions", lambda: {ln["speaker"] for ln in lines()} >= {"Người chair", "Người member1"}, 90)
        heard = lines()
        assert {ln["speaker"] for ln in heard} == {"Người chair", "Người member1"}, heard  # silence on a channel says nothing
        offset = min(ln["start"] for ln in heard if ln["speaker"] == "Người chair") - script[0][1]  # the room clock vs the script
        for channel, start, end in script:  # each seat's lines lie where that seat spoke, under its member's name
            mine = [ln for ln in heard if ln["speaker"] == ("Người chair" if channel == 0 else "Người member1")]
            assert mine and all(ln["text"].strip() for ln in mine), heard
            # within a second: the offset is itself one line's start, and Whisper's ends overshoot a little
            # (a run on a loaded machine ended 0.704 s past the seat's speech)
            assert all(start - 1.0 <= ln["start"] - offset and ln["end"] - offset <= end + 1.0 for ln in mine), (offset, script, heard)

        # a vote through the API
        motion = {"title": "Thông qua dự thảo nghị quyết", "rule": {"preset": "hdnd_resolution"}, "agenda_item_id": world.item_ids[1]}
        r = client.post(f"/api/meetings/{mid}/polls", json=motion, headers=chair)
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        assert client.post(f"/api/meetings/{mid}/polls/{pid}/open", json={}, headers=chair).status_code == 200
        for who in ("chair", "member1"):
            option = r.json()["options"][0]["id"]
            assert (
                client.post(f"/api/meetings/{mid}/polls/{pid}/ballots", json={"options": [option]}, headers=login(client, who)).status_code
                == 201
            )
        closed = client.post(f"/api/meetings/{mid}/polls/{pid}/close", json={}, headers=chair)
        assert closed.status_code == 200 and closed.json()["ballots_cast"] == 2, closed.text

        # the camera's cable is pulled, then plugged back: the chair's meeting shows it
        camera.stop()
        _wait(
            "camera lost",
            lambda: client.get(f"/api/meetings/{mid}", headers=chair).json()["devices"].get("Toàn cảnh", {}).get("state") == "lost",
            20,
        )
        camera = MjpegServer(camera.frames, fps=5, port=port).start()
        _wait(
            "camera back",
            lambda: client.get(f"/api/meetings/{mid}", headers=chair).json()["devices"]["Toàn cảnh"]["state"] == "connected",
            30,
        )

        # closing the meeting: captions end, the recording is assembled and archived, minutes drafted
        assert client.post(f"/api/meetings/{mid}/transitions", json={"to": "closed"}, headers=chair).status_code == 200
        recs = _wait("the archived recording", lambda: client.get(f"/api/meetings/{mid}/recordings", headers=chair).json(), 60)
        rec = recs[0]
        assert rec["channels"] == 2 and rec["filename"].endswith("ban-hop.flac"), rec
        assert rec["duration_s"] >= time.time() - opened - 1  # from the opening to the closing, nothing dropped out
        passes = client.get(f"/api/meetings/{mid}/transcription", headers=chair).json()
        assert [p["state"] for p in passes if p["kind"] == "live"] == ["completed"]
        minutes = client.get(f"/api/meetings/{mid}/minutes", headers=chair).json()
        assert any(p["title"] == motion["title"] for s in minutes["sections"] for p in s["polls"]), minutes["sections"]
        assert runner.live_meeting is None
    camera.stop()
    store.engine.dispose()

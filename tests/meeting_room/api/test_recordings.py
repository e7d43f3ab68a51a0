"""A meeting's recordings through the API: checked, stored, listed and played back with Range."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from speech.audio import SAMPLE_RATE
from tests.conftest import World, login, snapshot
from tests.meeting_room.api.audio_uploads import upload_recording, wav_bytes


def test_recordings_are_checked_and_stored(sclient: TestClient, sworld: World) -> None:
    chair = login(sclient, "chair")
    before = snapshot(sworld.store)
    assert upload_recording(sclient, sworld, chair, b"").status_code in (415, 422)
    r = upload_recording(sclient, sworld, chair, b"%PDF-1.4 not audio", "a.pdf")
    assert r.status_code in (415, 422) and "WAV" in r.json()["error"]["message"]
    assert upload_recording(sclient, sworld, login(sclient, "member1"), wav_bytes(np.zeros(SAMPLE_RATE, np.float32))).status_code == 403
    # refused before the body is read (an attacker's probe had a member's 500 MB written to a temporary file first)
    garbage = {**login(sclient, "member1"), "content-type": "multipart/form-data; boundary=khong-phai-form"}
    assert sclient.post(f"/api/meetings/{sworld.meeting_id}/recordings", content=b"x" * 1000, headers=garbage).status_code == 403
    assert snapshot(sworld.store) == before
    r = upload_recording(sclient, sworld, chair, wav_bytes(np.zeros(2 * SAMPLE_RATE, np.float32)))
    assert r.status_code == 201 and r.json()["channels"] == 1 and abs(r.json()["duration_s"] - 2.0) < 0.01
    rec = r.json()["recording_id"]
    listed = sclient.get(f"/api/meetings/{sworld.meeting_id}/recordings", headers=login(sclient, "member1")).json()
    assert [x["recording_id"] for x in listed] == [rec]
    part = sclient.get(f"/api/meetings/{sworld.meeting_id}/recordings/{rec}/file", headers={**chair, "Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"RIFF"

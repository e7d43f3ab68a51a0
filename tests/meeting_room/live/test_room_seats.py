"""The seat microphones name whoever sits in the seat in this meeting: the seat's usual occupant,
then a guest seated in their place while the meeting runs (a room input replayed from a file, the
real Whisper base)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from meeting_room.server import open_store
from speech.audio import SAMPLE_RATE, read_all
from speech.models import ModelStore
from tests.conftest import _settings, login, make_world
from tests.meeting_room.api.test_auth import _admin_password
from tests.meeting_room.call_server import wait_for
from tests.speech_audio import speak, write_wav


def test_a_guest_seated_in_place_of_the_usual_occupant_is_named_on_the_transcript(tmp_path: Path, model_store: ModelStore) -> None:
    clip = read_all(speak(tmp_path / "a.wav", "Tôi đồng ý với dự thảo nghị quyết của hội đồng."))
    pad = np.zeros(SAMPLE_RATE, np.float32)
    audio = write_wav(tmp_path / "seat.wav", np.concatenate([pad, clip, pad, pad]))
    config = tmp_path / "room.toml"
    config.write_text(
        f"""room = "Phòng họp A"

[[microphones]]
name = "ban-hop"
file = "{audio}"
channels = 1
sample_rate = {SAMPLE_RATE}
loop = true

[[seats]]
label = "A1"
channel = 0
member = "member2"   # the configuration's guess, which the room's and the meeting's seating override
""",
        encoding="utf-8",
    )
    settings = _settings(tmp_path, models_dir=model_store.root, rooms=[config], asr_temperature_fallback=False)
    store = open_store(settings)
    world = make_world(store)
    mid = world.meeting_id
    from meeting_room.api.app import create_app

    app = create_app(settings, store)
    with TestClient(app) as client:
        runner = app.state.runtime.rooms[0]
        admin, chair = login(client, "admin", _admin_password(world)), login(client, "chair")
        a1 = client.get(f"/api/rooms/{world.room_id}", headers=admin).json()["seats"][0]["id"]
        r = client.put(f"/api/rooms/{world.room_id}/seats/{a1}/occupant", json={"member_id": world.ids["chair"]}, headers=admin)
        assert r.status_code == 200, r.text

        def speakers() -> set[str]:
            lines = client.get(f"/api/meetings/{mid}/transcript", headers=chair).json()["lines"]
            return {ln["speaker"] for ln in lines}

        for target in ("open", "in_session"):
            assert client.post(f"/api/meetings/{mid}/transitions", json={"to": target}, headers=chair).status_code == 200
        wait_for("the room to go live", lambda: runner.live_meeting == mid, 20)
        wait_for("the usual occupant's line", lambda: "Người chair" in speakers(), 90)

        # the chair gives his seat to the guest mid-meeting: the seat's microphone names the guest
        r = client.put(f"/api/meetings/{mid}/seats/{a1}", json={"member_id": world.ids["guest"]}, headers=chair)
        assert r.status_code == 200, r.text
        wait_for("the guest's line", lambda: "Người guest" in speakers(), 90)
        assert "Người member2" not in speakers()
        assert client.post(f"/api/meetings/{mid}/transitions", json={"to": "closed"}, headers=chair).status_code == 200
    store.engine.dispose()

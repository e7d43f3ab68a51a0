"""Voices, recordings, final transcription with named speakers, relabelling, and live captions,
through the API with the real models (Whisper base, pyannote + CAM++) on generated voices."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from meeting_room import transcript_reads
from meeting_room.server import open_store
from meeting_room.services import transcripts
from meeting_room.settings import Settings
from meeting_room.store import Store
from speech.audio import SAMPLE_RATE
from tests.conftest import World, _settings, login, make_world, snapshot


@pytest.fixture
def speech_settings(tmp_path: Path, model_store) -> Settings:  # type: ignore[no-untyped-def]
    # espeak voices are at the edge of what Whisper base reads: sampled re-decodes made the words (and so
    # their times, which the attribution splits on) differ from run to run; greedy decoding is reproducible
    return _settings(tmp_path, models_dir=model_store.root, max_upload_mb=5, asr_temperature_fallback=False)


@pytest.fixture
def sworld(speech_settings: Settings) -> Iterator[World]:
    store = open_store(speech_settings)
    yield make_world(store)
    store.engine.dispose()


@pytest.fixture
def sclient(speech_settings: Settings, sworld: World) -> Iterator[TestClient]:
    from meeting_room.api.app import create_app

    with TestClient(create_app(speech_settings, sworld.store)) as c:
        yield c


def _wav_bytes(audio: np.ndarray, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    import wave

    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def _reading(clips: list[np.ndarray]) -> np.ndarray:
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    return np.concatenate([x for clip in clips * 2 for x in (clip, gap)])


def _enrol_voices(client: TestClient, world: World, two_voices: dict) -> dict[str, str]:
    admin = login(client, "admin")
    who = {"A": "chair", "B": "member1"}
    for voice, username in who.items():
        member = world.ids[username]
        assert client.put(f"/api/members/{member}/biometric-consent", json={"given": True}, headers=admin).status_code == 200
        files = {"audio": ("doc.wav", _wav_bytes(_reading(two_voices["clips"][voice])), "audio/wav")}
        r = client.post(f"/api/members/{member}/voice", files=files, headers=admin)
        assert r.status_code == 201, r.text
        assert r.json()["speech_s"] >= 8
    return admin


def _upload(client: TestClient, world: World, headers: dict[str, str], data: bytes, name: str = "phien-hop.wav"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/meetings/{world.meeting_id}/recordings", files={"file": (name, data, "audio/wav")}, headers=headers)


def test_voice_enrolment_needs_consent_and_a_real_reading(sclient: TestClient, sworld: World, two_voices: dict) -> None:
    admin = login(sclient, "admin")
    member = sworld.ids["member1"]
    reading = {"audio": ("doc.wav", _wav_bytes(_reading(two_voices["clips"]["B"])), "audio/wav")}
    before = snapshot(sworld.store)
    r = sclient.post(f"/api/members/{member}/voice", files=reading, headers=admin)
    assert r.status_code == 409 and "đồng ý" in r.json()["error"]["message"]
    assert snapshot(sworld.store) == before
    sclient.put(f"/api/members/{member}/biometric-consent", json={"given": True}, headers=admin)
    short = {"audio": ("ngan.wav", _wav_bytes(two_voices["clips"]["B"][1]), "audio/wav")}
    r = sclient.post(f"/api/members/{member}/voice", files=short, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "too_little_speech", r.text
    r = sclient.post(f"/api/members/{member}/voice", files={"audio": ("x.wav", b"not audio at all", "audio/wav")}, headers=admin)
    assert r.status_code == 415 and "x.wav" in r.json()["error"]["message"] and "WAV" in r.json()["error"]["message"], r.text
    other = login(sclient, "member2")
    assert sclient.post(f"/api/members/{member}/voice", files=reading, headers=other).status_code == 403
    assert sclient.post(f"/api/members/{member}/voice", files=reading, headers=admin).status_code == 201
    assert len(sclient.get(f"/api/members/{member}/biometrics", headers=admin).json()["voices"]) == 1
    # withdrawing consent deletes the voiceprint, and the log says how many
    sclient.put(f"/api/members/{member}/biometric-consent", json={"given": False}, headers=admin)
    assert sclient.get(f"/api/members/{member}/biometrics", headers=admin).json()["voices"] == []
    deleted = sworld.store.events(type_prefix="member.biometrics_deleted")[-1]
    assert deleted.data["voices"] == 1 and deleted.data["reason"] == "consent_withdrawn"


def test_recordings_are_checked_and_stored(sclient: TestClient, sworld: World) -> None:
    chair = login(sclient, "chair")
    before = snapshot(sworld.store)
    assert _upload(sclient, sworld, chair, b"").status_code in (415, 422)
    r = _upload(sclient, sworld, chair, b"%PDF-1.4 not audio", "a.pdf")
    assert r.status_code in (415, 422) and "WAV" in r.json()["error"]["message"]
    assert _upload(sclient, sworld, login(sclient, "member1"), _wav_bytes(np.zeros(SAMPLE_RATE, np.float32))).status_code == 403
    assert snapshot(sworld.store) == before
    r = _upload(sclient, sworld, chair, _wav_bytes(np.zeros(2 * SAMPLE_RATE, np.float32)))
    assert r.status_code == 201 and r.json()["channels"] == 1 and abs(r.json()["duration_s"] - 2.0) < 0.01
    rec = r.json()["recording_id"]
    listed = sclient.get(f"/api/meetings/{sworld.meeting_id}/recordings", headers=login(sclient, "member1")).json()
    assert [x["recording_id"] for x in listed] == [rec]
    part = sclient.get(f"/api/meetings/{sworld.meeting_id}/recordings/{rec}/file", headers={**chair, "Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"RIFF"


def test_final_transcription_names_speakers_and_relabels(sclient: TestClient, sworld: World, two_voices: dict) -> None:
    admin = _enrol_voices(sclient, sworld, two_voices)
    chair = login(sclient, "chair")
    rec = _upload(sclient, sworld, chair, _wav_bytes(two_voices["audio"])).json()["recording_id"]
    r = sclient.post(f"/api/meetings/{sworld.meeting_id}/transcription", json={"recording_id": rec}, headers=chair)
    assert r.status_code == 202, r.text
    pass_id = r.json()["pass_id"]
    again = sclient.post(f"/api/meetings/{sworld.meeting_id}/transcription", json={"recording_id": rec}, headers=chair)
    assert again.status_code == 409  # one final pass at a time
    sclient.app.state.runtime.transcription.wait(pass_id, timeout=300)
    passes = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcription", headers=chair).json()
    assert passes[-1]["state"] == "completed" and passes[-1]["current"], passes
    transcript = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=login(sclient, "member2")).json()
    assert transcript["kind"] == "final" and transcript["lines"]
    names = {s["cluster"]: s["name"] for s in transcript["speakers"]}
    assert sorted(names.values()) == ["Người chair", "Người member1"], transcript["speakers"]
    # every line that lies within one true turn carries that speaker's name; both speakers are heard
    member_of = {"A": "Người chair", "B": "Người member1"}
    checked = 0
    for ln in transcript["lines"]:
        for start, end, who in two_voices["truth"]:
            inside = min(end + 0.3, ln["end"]) - max(start - 0.3, ln["start"])
            if inside >= 0.7 * (ln["end"] - ln["start"]):
                assert ln["speaker"] == member_of[who], (who, ln)
                checked += 1
    assert checked >= 2 and {ln["speaker"] for ln in transcript["lines"]} == set(member_of.values()), transcript["lines"]
    # formats
    vtt = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript?format=vtt", headers=chair)
    assert vtt.text.startswith("WEBVTT") and "Người chair: " in vtt.text
    assert "Người member1" in sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript?format=txt", headers=chair).text
    assert "SPEAKER" in sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript?format=rttm", headers=chair).text
    # the secretary renames a speaker: every line of that cluster follows
    cluster = next(c for c, n in names.items() if n == "Người member1")
    secretary = login(sclient, "secretary")
    url = f"/api/meetings/{sworld.meeting_id}/transcript/{pass_id}/speakers/{cluster}"
    assert sclient.put(url, json={"name": "Đại biểu Nguyễn Văn Bình"}, headers=login(sclient, "member1")).status_code == 403
    assert sclient.put(url, json={}, headers=secretary).status_code == 422
    assert sclient.put(url, json={"name": "Đại biểu Nguyễn Văn Bình"}, headers=secretary).status_code == 204
    after = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=chair).json()
    renamed = [ln for ln in after["lines"] if ln["cluster"] == cluster]
    assert renamed and all(ln["speaker"] == "Đại biểu Nguyễn Văn Bình" for ln in renamed)
    unknown = f"/api/meetings/{sworld.meeting_id}/transcript/{pass_id}/speakers/SPEAKER_99"
    assert sclient.put(unknown, json={"name": "X"}, headers=secretary).status_code == 404
    assert admin


def test_one_microphone_per_seat_means_the_channel_is_the_speaker(sclient: TestClient, sworld: World, two_voices: dict) -> None:
    chair = login(sclient, "chair")
    audio = two_voices["audio"]
    a_only, b_only = audio.copy(), audio.copy()
    for start, end, who in two_voices["truth"]:
        target = b_only if who == "A" else a_only  # silence the other seat's microphone
        target[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] = 0
    stereo = np.stack([a_only, b_only], axis=1).reshape(-1)
    rec = _upload(sclient, sworld, chair, _wav_bytes(stereo, channels=2)).json()
    assert rec["channels"] == 2
    body = {"recording_id": rec["recording_id"], "channels": {"0": sworld.ids["chair"], "1": sworld.ids["member1"]}}
    bad = {**body, "channels": {"5": sworld.ids["chair"]}}
    assert sclient.post(f"/api/meetings/{sworld.meeting_id}/transcription", json=bad, headers=chair).status_code == 422
    pass_id = sclient.post(f"/api/meetings/{sworld.meeting_id}/transcription", json=body, headers=chair).json()["pass_id"]
    sclient.app.state.runtime.transcription.wait(pass_id, timeout=300)
    lines = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=chair).json()["lines"]
    assert lines and {ln["channel"] for ln in lines} == {0, 1}
    assert all(ln["speaker"] == ("Người chair" if ln["channel"] == 0 else "Người member1") for ln in lines)


def test_an_interrupted_transcription_resumes_without_repeating_lines(speech_settings: Settings, sworld: World, two_voices: dict) -> None:
    from meeting_room.api.app import create_app

    chair = sworld.actor("chair")
    with TestClient(create_app(speech_settings, sworld.store)) as client:
        headers = login(client, "chair")
        rec = _upload(client, sworld, headers, _wav_bytes(two_voices["audio"])).json()["recording_id"]
    # a pass that "crashed" after its first line: running, one line in the log
    pass_id = transcripts.new_pass(sworld.store, sworld.meeting_id, "final", "whisper-base", recording_id=rec, actor_id=chair.member_id)
    from speech.transcript import Segment

    first_end = two_voices["truth"][0][1]
    transcripts.add_segment(sworld.store, sworld.meeting_id, pass_id, Segment(0.1, first_end, "câu đầu tiên"), None)
    with TestClient(create_app(speech_settings, sworld.store)) as client:  # a restart resumes it
        client.app.state.runtime.transcription.wait(pass_id, timeout=300)
        lines = client.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=login(client, "chair")).json()
    assert lines["pass_id"] == pass_id and lines["state"] == "completed"
    starts = [ln["start"] for ln in lines["lines"]]
    assert lines["lines"][0]["text"] == "câu đầu tiên" and len(starts) >= 3
    assert all(s >= first_end - 0.01 for s in starts[1:]), starts  # nothing before the resume point again


def _pcm(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def test_live_captions_from_streamed_audio_reach_the_meeting_stream(sclient: TestClient, sworld: World, two_voices: dict) -> None:
    _enrol_voices(sclient, sworld, two_voices)
    chair = login(sclient, "chair")
    token = chair["Authorization"].split()[1]
    base = f"/api/meetings/{sworld.meeting_id}"
    with sclient.websocket_connect(f"{base}/live/audio?token={token}") as ws:
        assert ws.receive_json()["kind"] == "error"  # captions not started yet
    assert sclient.post(f"{base}/live/start", json={}, headers=login(sclient, "member1")).status_code == 403
    pass_id = sclient.post(f"{base}/live/start", json={}, headers=chair).json()["pass_id"]
    assert sclient.post(f"{base}/live/start", json={}, headers=chair).json()["pass_id"] == pass_id  # idempotent
    seen: list[dict] = []
    with sclient.websocket_connect(f"{base}/stream?token={token}") as viewer:
        while viewer.receive_json()["kind"] != "ready":
            pass
        with sclient.websocket_connect(f"{base}/live/audio?token={token}&source=mic") as mic:
            assert mic.receive_json()["kind"] == "ready"
            mic.send_bytes(b"\x01")  # an odd byte: refused, the socket stays
            assert mic.receive_json()["error"]["code"] == "invalid_audio"
            audio = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), two_voices["audio"], np.zeros(SAMPLE_RATE, np.float32)])
            step = SAMPLE_RATE // 10
            for i in range(0, len(audio), step):
                mic.send_bytes(_pcm(audio[i : i + step]))
        assert sclient.post(f"{base}/live/stop", json={}, headers=chair).json()["pass_id"] == pass_id
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


def test_store_holds_every_transcript_change(sworld: World) -> None:
    """Replaying the log rebuilds passes, speakers and lines exactly (they are read models)."""
    store: Store = sworld.store
    pass_id = transcripts.new_pass(store, sworld.meeting_id, "live", "whisper-base")
    from meeting_room.events import SpeakerSpec
    from speech.transcript import Segment, Word

    transcripts.add_speakers(store, sworld.meeting_id, pass_id, [SpeakerSpec(cluster="live-1", name="Người nói 1", source="anonymous")])
    transcripts.add_segment(store, sworld.meeting_id, pass_id, Segment(1.0, 2.5, "xin chào", (Word(1.0, 1.5, "xin", 0.9),), -0.1), "live-1")
    transcripts.relabel(store, sworld.actor("chair"), sworld.meeting_id, pass_id, "live-1", member_id=sworld.ids["member2"])
    transcripts.end_pass(store, sworld.meeting_id, pass_id, "completed", 3.0)
    with store.read() as session:
        before = transcript_reads.lines(session, pass_id)
    assert before[0].speaker == "Người member2" and before[0].member_id == sworld.ids["member2"]
    store.rebuild()
    with store.read() as session:
        assert transcript_reads.lines(session, pass_id) == before
        assert transcript_reads.current_pass(session, sworld.meeting_id).state == "completed"
    assert store.verify().ok

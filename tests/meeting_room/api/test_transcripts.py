"""Final transcription with named speakers, one microphone per seat, resuming, relabelling and the
transcript's formats, through the API with the real models (Whisper base, pyannote + CAM++) on generated voices."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from meeting_room.services import transcripts
from meeting_room.settings import Settings
from speech.audio import SAMPLE_RATE
from tests.conftest import TwoVoices, World, client_runtime, login
from tests.meeting_room.api.audio_uploads import enrol_voices, upload_recording, wav_bytes


def test_final_transcription_names_speakers_and_relabels(sclient: TestClient, sworld: World, two_voices: TwoVoices) -> None:
    admin = enrol_voices(sclient, sworld, two_voices)
    chair = login(sclient, "chair")
    rec = upload_recording(sclient, sworld, chair, wav_bytes(two_voices["audio"])).json()["recording_id"]
    r = sclient.post(f"/api/meetings/{sworld.meeting_id}/transcription", json={"recording_id": rec}, headers=chair)
    assert r.status_code == 202, r.text
    pass_id = r.json()["pass_id"]
    again = sclient.post(f"/api/meetings/{sworld.meeting_id}/transcription", json={"recording_id": rec}, headers=chair)
    assert again.status_code == 409  # one final pass at a time
    client_runtime(sclient).transcription.wait(pass_id, timeout=300)
    passes = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcription", headers=chair).json()
    assert passes[-1]["state"] == "completed" and passes[-1]["current"], passes
    transcript = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=login(sclient, "member2")).json()
    assert transcript["kind"] == "final" and transcript["lines"]
    names = {s["cluster"]: s["name"] for s in transcript["speakers"]}
    assert sorted(names.values()) == ["Người chair", "Người member1"], transcript["speakers"]
    # the speech is named by who truly said it, weighed by time: Whisper may cut a line across two turns (under
    # load it once made one line of three), and such a line carries the name of the turn it mostly covers
    member_of = {"A": "Người chair", "B": "Người member1"}
    said = named_right = 0.0
    for ln in transcript["lines"]:
        for start, end, who in two_voices["truth"]:
            both = max(0.0, min(end, ln["end"]) - max(start, ln["start"]))
            said += both
            named_right += both if ln["speaker"] == member_of[who] else 0.0
    spoken = sum(end - start for start, end, _ in two_voices["truth"])
    assert said >= 0.6 * spoken and named_right >= 0.7 * said, (named_right, said, transcript["lines"])
    assert {ln["speaker"] for ln in transcript["lines"]} == set(member_of.values()), transcript["lines"]
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
    # a member is someone who takes part, named as the register has them (an attacker's probe put an outsider
    # and a made-up name on the lines, and into the minutes and the speaking statistics)
    before = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=chair).json()["speakers"]
    outsider = sclient.put(url, json={"member_id": sworld.ids["outsider"]}, headers=secretary)
    assert outsider.status_code == 404 and "không có trong danh sách dự họp" in outsider.json()["error"]["message"]
    assert sclient.put(url, json={"member_id": sworld.ids["member2"], "name": "Nguyễn Chủ Tịch"}, headers=secretary).status_code == 204
    speakers = {s["cluster"]: s for s in sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=chair).json()["speakers"]}
    assert (speakers[cluster]["name"], speakers[cluster]["member_id"]) == ("Người member2", sworld.ids["member2"])
    assert len(speakers) == len(before)
    assert admin


def test_one_microphone_per_seat_means_the_channel_is_the_speaker(sclient: TestClient, sworld: World, two_voices: TwoVoices) -> None:
    chair = login(sclient, "chair")
    audio = two_voices["audio"]
    a_only, b_only = audio.copy(), audio.copy()
    for start, end, who in two_voices["truth"]:
        target = b_only if who == "A" else a_only  # silence the other seat's microphone
        target[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] = 0
    stereo = np.stack([a_only, b_only], axis=1).reshape(-1)
    rec = upload_recording(sclient, sworld, chair, wav_bytes(stereo, channels=2)).json()
    assert rec["channels"] == 2
    body = {"recording_id": rec["recording_id"], "channels": {"0": sworld.ids["chair"], "1": sworld.ids["member1"]}}
    bad = {**body, "channels": {"5": sworld.ids["chair"]}}
    assert sclient.post(f"/api/meetings/{sworld.meeting_id}/transcription", json=bad, headers=chair).status_code == 422
    pass_id = sclient.post(f"/api/meetings/{sworld.meeting_id}/transcription", json=body, headers=chair).json()["pass_id"]
    client_runtime(sclient).transcription.wait(pass_id, timeout=300)
    lines = sclient.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=chair).json()["lines"]
    assert lines and {ln["channel"] for ln in lines} == {0, 1}
    assert all(ln["speaker"] == ("Người chair" if ln["channel"] == 0 else "Người member1") for ln in lines)


def test_an_interrupted_transcription_resumes_without_repeating_lines(
    speech_settings: Settings, sworld: World, two_voices: TwoVoices
) -> None:
    from meeting_room.api.app import create_app

    chair = sworld.actor("chair")
    with TestClient(create_app(speech_settings, sworld.store)) as client:
        headers = login(client, "chair")
        rec = upload_recording(client, sworld, headers, wav_bytes(two_voices["audio"])).json()["recording_id"]
    # a pass that "crashed" after its first line: running, one line in the log
    pass_id = transcripts.new_pass(sworld.store, sworld.meeting_id, "final", "whisper-base", recording_id=rec, actor_id=chair.member_id)
    from speech.transcript import Segment

    first_end = two_voices["truth"][0][1]
    transcripts.add_segment(sworld.store, sworld.meeting_id, pass_id, Segment(0.1, first_end, "câu đầu tiên"), None)
    with TestClient(create_app(speech_settings, sworld.store)) as client:  # a restart resumes it
        client_runtime(client).transcription.wait(pass_id, timeout=300)
        lines = client.get(f"/api/meetings/{sworld.meeting_id}/transcript", headers=login(client, "chair")).json()
    assert lines["pass_id"] == pass_id and lines["state"] == "completed"
    starts = [ln["start"] for ln in lines["lines"]]
    assert lines["lines"][0]["text"] == "câu đầu tiên" and len(starts) >= 3
    assert all(s >= first_end - 0.01 for s in starts[1:]), starts  # nothing before the resume point again

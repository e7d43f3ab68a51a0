"""Enrolling a member's voice through the API (with the real voice encoder): consent, a real reading, who may."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import TwoVoices, World, login, snapshot
from tests.meeting_room.api.audio_uploads import enrolment_reading, wav_bytes


def test_voice_enrolment_needs_consent_and_a_realreading(sclient: TestClient, sworld: World, two_voices: TwoVoices) -> None:
    admin = login(sclient, "admin")
    member = sworld.ids["member1"]
    reading = {"audio": ("doc.wav", wav_bytes(enrolment_reading(two_voices["clips"]["B"])), "audio/wav")}
    before = snapshot(sworld.store)
    r = sclient.post(f"/api/members/{member}/voice", files=reading, headers=admin)
    assert r.status_code == 409 and "đồng ý" in r.json()["error"]["message"]
    assert snapshot(sworld.store) == before
    sclient.put(f"/api/members/{member}/biometric-consent", json={"given": True}, headers=admin)
    short = {"audio": ("ngan.wav", wav_bytes(two_voices["clips"]["B"][1]), "audio/wav")}
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

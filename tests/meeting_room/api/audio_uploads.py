"""Audio as the API tests send it: WAV uploads, a member's reading, raw PCM for the audio socket."""

from __future__ import annotations

import io
import wave

import httpx2 as httpx
import numpy as np
from fastapi.testclient import TestClient

from speech.audio import SAMPLE_RATE
from tests.conftest import TwoVoices, World, login


def pcm(audio: np.ndarray) -> bytes:
    """Samples in [-1, 1] as little-endian 16-bit PCM (what the audio WebSocket carries)."""
    data: bytes = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    return data


def wav_bytes(audio: np.ndarray, channels: int = 1) -> bytes:
    """A 16 kHz WAV file of ``audio`` (interleaved when ``channels`` > 1)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm(audio))
    return buf.getvalue()


def enrolment_reading(clips: list[np.ndarray]) -> np.ndarray:
    """A member's enrolment reading: their clips twice over, with pauses."""
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    return np.concatenate([x for clip in clips * 2 for x in (clip, gap)])


def enrol_voices(client: TestClient, world: World, two_voices: TwoVoices) -> dict[str, str]:
    """Voice A as the chair's, voice B as member1's (with their consent); the administrator's headers."""
    admin = login(client, "admin")
    who = {"A": "chair", "B": "member1"}
    for voice, username in who.items():
        member = world.ids[username]
        assert client.put(f"/api/members/{member}/biometric-consent", json={"given": True}, headers=admin).status_code == 200
        files = {"audio": ("doc.wav", wav_bytes(enrolment_reading(two_voices["clips"][voice])), "audio/wav")}
        r = client.post(f"/api/members/{member}/voice", files=files, headers=admin)
        assert r.status_code == 201, r.text
        assert r.json()["speech_s"] >= 8
    return admin


def upload_recording(client: TestClient, world: World, headers: dict[str, str], data: bytes, name: str = "phien-hop.wav") -> httpx.Response:
    """Upload ``data`` as a recording of the world's meeting."""
    return client.post(f"/api/meetings/{world.meeting_id}/recordings", files={"file": (name, data, "audio/wav")}, headers=headers)

"""Voice enrolment and matching with CAM++ on generated voices."""

from __future__ import annotations

import numpy as np
import pytest

from speech.audio import SAMPLE_RATE
from speech.voiceprint import VoiceEncoder, VoiceEnrolmentError, VoiceGallery, VoiceRules
from tests.conftest import TwoVoices


def _reading(clips: list[np.ndarray]) -> np.ndarray:
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    return np.concatenate([x for clip in clips * 2 for x in (clip, gap)])


def test_enrolled_voices_are_recognised_and_strangers_are_not(voice_encoder: VoiceEncoder, two_voices: TwoVoices) -> None:
    clips = two_voices["clips"]
    a = voice_encoder.enrol(_reading(clips["A"]))
    b = voice_encoder.enrol(_reading(clips["B"]))
    assert a.speech_s >= 8 and abs(float(np.linalg.norm(a.embedding)) - 1) < 1e-4
    gallery = VoiceGallery.build({"member-a": [a.embedding], "member-b": [b.embedding]})
    match_a = gallery.match(voice_encoder.embed(clips["A"][1]))
    match_b = gallery.match(voice_encoder.embed(clips["B"][1]))
    assert match_a is not None and match_a.member_id == "member-a" and match_a.score > match_a.runner_up
    assert match_b is not None and match_b.member_id == "member-b"
    # with only B enrolled, A's voice is nobody
    assert VoiceGallery.build({"member-b": [b.embedding]}).match(voice_encoder.embed(clips["A"][0])) is None
    assert VoiceGallery().match(a.embedding) is None


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda clips: clips["A"][0], "too_little_speech"),
        (lambda clips: np.zeros(20 * SAMPLE_RATE, np.float32), "too_little_speech"),
        (lambda clips: np.clip(_reading(clips["A"]) * 50, -1, 1), "clipped"),
        (lambda clips: _reading(clips["A"]) * 0.002, "too_quiet"),
    ],
)
def test_bad_recordings_are_refused_with_the_reason(voice_encoder: VoiceEncoder, two_voices: TwoVoices, make, reason: str) -> None:
    with pytest.raises(VoiceEnrolmentError) as info:
        voice_encoder.enrol(make(two_voices["clips"]).astype(np.float32))
    assert info.value.reason == reason and info.value.message_vi and info.value.message_en


def test_overlong_recordings_are_refused(voice_encoder: VoiceEncoder) -> None:
    with pytest.raises(VoiceEnrolmentError, match="tối đa"):
        voice_encoder.enrol(np.zeros(11 * SAMPLE_RATE, np.float32), VoiceRules(max_duration_s=10))
    with pytest.raises(ValueError):
        voice_encoder.embed(np.zeros(100, np.float32))


def test_a_voice_without_a_finite_score_is_named_nobody() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(192).astype(np.float32), rng.standard_normal(192).astype(np.float32)
    gallery = VoiceGallery.build({"member-a": [a], "member-b": [b]})
    assert gallery.match(a) is not None and gallery.match(a).member_id == "member-a"  # type: ignore[union-attr]
    assert gallery.match(np.full(192, np.nan, np.float32)) is None  # NaN compares false with any threshold

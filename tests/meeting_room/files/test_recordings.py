"""Recordings are checked before they are kept: a file whose declared length disagrees with what it
holds (cut short after its header was written) is refused and nothing stays on disk."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from meeting_room.errors import UploadRejectedError
from meeting_room.files.recordings import RecordingFiles

RATE = 16_000


def _wav(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def _encoded(codec: str, fmt: str, seconds: float) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=48_000 if codec == "libopus" else RATE)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * stream.rate)) / stream.rate)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = stream.rate
        resampler = av.AudioResampler(format=stream.format, layout="mono", rate=stream.rate)
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(piece):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def test_honest_files_are_kept_with_their_length(tmp_path: Path) -> None:
    files = RecordingFiles(tmp_path, max_bytes=20 << 20)
    assert files.ingest(io.BytesIO(_wav(3.0))).duration_s == pytest.approx(3.0, abs=0.05)
    for codec, fmt in (("flac", "flac"), ("libopus", "ogg"), ("libmp3lame", "mp3")):
        stored = files.ingest(io.BytesIO(_encoded(codec, fmt, 4.0)))
        assert stored.duration_s == pytest.approx(4.0, abs=0.3), codec


@pytest.mark.parametrize(("codec", "fmt"), [("flac", "flac"), ("libmp3lame", "mp3")])
def test_a_file_cut_short_of_its_declared_length_is_refused_and_nothing_kept(tmp_path: Path, codec: str, fmt: str) -> None:
    """FLAC's STREAMINFO and MP3's Xing header state the length; a file cut in half still says 20 s."""
    whole = _encoded(codec, fmt, 20.0)
    files = RecordingFiles(tmp_path, max_bytes=20 << 20)
    with pytest.raises(UploadRejectedError) as caught:
        files.ingest(io.BytesIO(whole[: len(whole) // 2]))
    error = caught.value
    assert "disagrees" in error.message_en and "không khớp" in error.message_vi
    assert error.details["declared_s"] == pytest.approx(20.0, abs=0.5)
    assert error.details["measured_s"] == pytest.approx(10.0, abs=1.0)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []

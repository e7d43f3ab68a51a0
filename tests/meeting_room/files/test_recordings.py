"""Recordings are checked before they are kept: a file whose declared length disagrees with what it
holds (cut short after its header was written) is refused and nothing stays on disk."""

from __future__ import annotations

import io
import struct
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


def test_a_playlist_naming_another_recording_is_refused_and_nothing_read(tmp_path: Path) -> None:
    """An attacker's probe: an ffconcat file naming another meeting's recording (its hash is on that
    meeting's page) was taken as a recording of that length; FFmpeg opened the other file to read it."""
    files = RecordingFiles(tmp_path, max_bytes=20 << 20)
    other = files.ingest(io.BytesIO(_wav(5.0)))
    relative = other.path.relative_to(tmp_path)
    for playlist in (f"ffconcat version 1.0\nfile {relative}\n", f"ffconcat version 1.0\nfile {other.path}\n"):
        with pytest.raises(UploadRejectedError) as caught:
            files.ingest(io.BytesIO(playlist.encode()))
        assert "Accepted: WAV" in caught.value.message_en and "Chấp nhận" in caught.value.message_vi
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == [other.path]


def _wav_at(rate: int, frames: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(bytes(np.random.default_rng(0).integers(0, 255, frames, dtype=np.uint8)))
    return buf.getvalue()


def test_a_header_cannot_make_a_small_file_hours_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 100 KB WAV at 1 Hz claimed 28 hours, which the transcription would resample and decode."""
    files = RecordingFiles(tmp_path, max_bytes=20 << 20)
    for rate in (1, 100, 4_000, 1_000_000):
        with pytest.raises(UploadRejectedError) as caught:
            files.ingest(io.BytesIO(_wav_at(rate, 100_000)))
        assert caught.value.details["sample_rate"] == rate and "8000-384000 Hz" in caught.value.message_en
    assert files.ingest(io.BytesIO(_wav_at(8_000, 16_000))).duration_s == pytest.approx(2.0)
    monkeypatch.setattr("meeting_room.files.recordings.MAX_HOURS", 1 / 3600)  # a day's length is too big for a test
    with pytest.raises(UploadRejectedError) as caught:
        files.ingest(io.BytesIO(_wav(3.0)))
    assert "over" in caught.value.message_en and "giờ" in caught.value.message_vi
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1
    # the room's own recording is as long as its meeting stayed open (adjourned overnight: over a day)
    assert files.ingest(io.BytesIO(_wav(3.0)), uploaded=False).duration_s == pytest.approx(3.0, abs=0.05)


def test_a_header_that_holds_no_sound_is_refused(tmp_path: Path) -> None:
    """A WAV of 0 channels declares a second and decodes to nothing: it was kept as a 1 s recording.
    Its decoder does not open; one of 1 channel and no samples is refused as empty."""

    def wav(channels: int, data: bytes) -> bytes:
        fmt = struct.pack("<HHIIHH", 1, channels, RATE, 2 * RATE, 2, 16)
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
        return b"RIFF" + struct.pack("<I", len(body)) + body

    files = RecordingFiles(tmp_path, max_bytes=1 << 20)
    with pytest.raises(UploadRejectedError) as caught:
        files.ingest(io.BytesIO(wav(0, bytes(32_000))))
    assert "Not a readable audio file" in caught.value.message_en
    with pytest.raises(UploadRejectedError) as caught:
        files.ingest(io.BytesIO(wav(1, b"")))
    assert "no content" in caught.value.message_en and "không có nội dung" in caught.value.message_vi
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_header_declaring_more_channels_than_can_be_decoded_is_refused(tmp_path: Path) -> None:
    """1,000 channels: FFmpeg reads 0 and cannot open its decoder; it was kept as one channel, to fail
    only when transcribed. 256 channels decode, and are kept as 256."""

    def wav(channels: int) -> bytes:
        fmt = struct.pack("<HHIIHH", 1, channels, RATE, 2 * RATE * channels, 2 * channels, 16)
        data = np.random.default_rng(0).integers(-3000, 3000, RATE // 4 * channels, dtype="<i2").tobytes()
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
        return b"RIFF" + struct.pack("<I", len(body)) + body

    files = RecordingFiles(tmp_path, max_bytes=16 << 20)
    with pytest.raises(UploadRejectedError) as caught:
        files.ingest(io.BytesIO(wav(1000)))
    assert "Not a readable audio file" in caught.value.message_en and "Chấp nhận" in caught.value.message_vi
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files.ingest(io.BytesIO(wav(256))).channels == 256

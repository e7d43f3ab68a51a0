"""Crash-safe segmented recording: bit-exact FLAC, gaps on the timeline, a killed process loses only
the segment being filled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from hardware.errors import RecordingError
from hardware.media import AudioChunk
from hardware.recorder import SegmentRecorder, assemble, segments

RATE = 16000


def _read(path: Path, channels: int) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray().reshape(-1, channels) for f in c.decode(audio=0)])


def _noise(seconds: float, channels: int) -> np.ndarray:
    return np.random.default_rng(1).uniform(-0.5, 0.5, (int(seconds * RATE), channels)).astype(np.float32)


def test_segments_assemble_bit_exact_with_silence_for_a_gap(tmp_path: Path) -> None:
    rec = SegmentRecorder(tmp_path, "ban-hop", 2, RATE, segment_s=2.0)
    x, w0, step = _noise(7.0, 2), 1_800_000_000.0, RATE // 10
    for i in list(range(0, 5 * RATE, step)) + list(range(6 * RATE, 7 * RATE, step)):  # second 5-6 never arrived
        rec.write(AudioChunk(x[i : i + step], w0 + i / RATE, "ban-hop", sample_rate=RATE))
    stats = rec.close()
    assert stats.segments == 4 and stats.dropped_s == 0 and abs(stats.written_s - 6.0) < 1e-6
    assert [round(s.wall - w0, 1) for s in segments(tmp_path, "ban-hop")] == [0.0, 2.0, 4.0, 6.0]
    out = assemble(tmp_path, "ban-hop", tmp_path / "phien-hop.flac")
    assert out.duration_s == 7.0 and out.gaps == ((5.0, 1.0),) and out.channels == 2
    y, pcm = _read(out.path, 2), (x * 32767).astype("<i2")
    assert np.array_equal(y[: 5 * RATE], pcm[: 5 * RATE]) and np.array_equal(y[6 * RATE :], pcm[6 * RATE :])
    assert not y[5 * RATE : 6 * RATE].any()


def test_bad_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="at most 8 channels"):
        SegmentRecorder(tmp_path, "x", 9, RATE)
    with pytest.raises(RecordingError, match="cannot name a file"):
        SegmentRecorder(tmp_path, "../x", 1, RATE)
    rec = SegmentRecorder(tmp_path, "x", 1, RATE)
    with pytest.raises(RecordingError, match="takes 1 at 16000"):
        rec.write(AudioChunk(np.zeros((160, 2), np.float32), time.time(), "x", sample_rate=RATE))
    rec.close()
    with pytest.raises(RecordingError, match="No segments"):
        assemble(tmp_path, "x", tmp_path / "x.flac")


CHILD = """
import sys, time, numpy as np
from pathlib import Path
from hardware.recorder import SegmentRecorder
from hardware.media import AudioChunk
rec = SegmentRecorder(Path(sys.argv[1]), "ban-hop", 1, 16000, segment_s=2.0)
t0 = time.time()
i = 0
while True:  # a live input: 0.1 s blocks in real time, each a different level
    rec.write(AudioChunk(np.full((1600, 1), (i % 50) / 100, np.float32), t0 + i * 0.1, "ban-hop", sample_rate=16000))
    i += 1
    if i == 10:
        print(t0, flush=True)
    time.sleep(max(0, t0 + i * 0.1 - time.time()))
"""


def test_a_killed_recorder_loses_at_most_a_segment_and_resumes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdout is not None
    t0 = float(child.stdout.readline())
    time.sleep(5.3)
    killed_at = time.time()
    os.kill(child.pid, signal.SIGKILL)  # no clean-up of any kind
    child.wait()
    kept = segments(tmp_path, "ban-hop")
    kept_until = kept[-1].wall + kept[-1].duration
    assert killed_at - kept_until <= 2.0 + 0.3, killed_at - kept_until  # at most the segment being filled
    # the server comes back 1.5 s later and goes on recording into the same folder
    time.sleep(1.5)
    rec = SegmentRecorder(tmp_path, "ban-hop", 1, RATE, segment_s=2.0)
    assert not list(tmp_path.glob("*.part"))
    resumed = time.time()
    for i in range(20):
        rec.write(AudioChunk(np.full((1600, 1), 0.9, np.float32), resumed + i * 0.1, "ban-hop", sample_rate=RATE))
    rec.close()
    out = assemble(tmp_path, "ban-hop", tmp_path / "all.flac")
    assert abs(out.start_wall - t0) < 0.01
    assert abs(out.duration_s - (resumed + 2.0 - t0)) < 0.05  # one timeline, outage included
    ((gap_at, missing),) = out.gaps
    assert abs(gap_at - (kept_until - t0)) < 0.05 and missing <= (resumed - killed_at) + 2.3
    y = _read(out.path, 1)[:, 0] / 32767
    second = int(2.5 * RATE)  # block 25 -> level 0.25, exactly where it was spoken
    assert abs(y[second] - 0.25) < 0.01 and abs(y[int((resumed - t0 + 0.5) * RATE)] - 0.9) < 0.01

"""A recording replayed as if live: exact chunks at the pace of their content, the channel asked for,
and an early stop. The clock is the replay's own seam, so pacing is checked without waiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hardware.media import SAMPLE_RATE, AudioChunk
from hardware.replay import replay
from tests.pulse_audio import write_wav

RATE = 48000


class _Clock:
    """Time that passes only when the replay sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


@pytest.fixture
def room(tmp_path: Path) -> Path:
    """1.05 s of two seats: 440 Hz on channel 0, 1000 Hz on channel 1."""
    t = np.arange(int(1.05 * RATE)) / RATE
    tones = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 1000 * t)], axis=1).astype(np.float32)
    return write_wav(tmp_path / "phien-hop.wav", tones, RATE)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(x * np.hanning(len(x))))) * rate / len(x))


def test_chunks_are_exact_and_each_is_released_when_its_end_is_due(room: Path) -> None:
    clock = _Clock()
    released: list[tuple[float, float, int]] = []
    for chunk in replay(room, chunk_s=0.1, speed=2.0, clock=clock, sleep=clock.sleep):
        released.append((clock.now - 100.0, chunk.start, len(chunk.samples)))
        assert chunk.sample_rate == SAMPLE_RATE and chunk.source == "phien-hop.wav" and chunk.samples.ndim == 1
    assert [n for _, _, n in released[:-1]] == [1600] * 10 and abs(released[-1][2] - 800) < 40  # 0.05 s left over
    assert [round(start, 3) for _, start, _ in released] == [round(0.1 * i, 3) for i in range(11)]
    for at, start, n in released:
        assert at == pytest.approx((start + n / SAMPLE_RATE) / 2.0)  # not before its end is due at 2x, and not later
    assert clock.slept == pytest.approx(1.05 / 2.0, abs=0.01)


def test_one_channel_or_the_first_channels_as_columns(room: Path) -> None:
    clock = _Clock()
    seat = np.concatenate([c.samples for c in replay(room, channel=1, source="ghe-2", clock=clock, sleep=clock.sleep)])
    assert abs(_peak_hz(seat, SAMPLE_RATE) - 1000) < 20
    both = list(replay(room, rate=RATE, channels=2, chunk_s=0.02, clock=clock, sleep=clock.sleep))
    assert both[0].samples.shape == (960, 2) and both[0].sample_rate == RATE
    audio = np.concatenate([c.samples for c in both])
    assert abs(_peak_hz(audio[:, 0], RATE) - 440) < 20 and abs(_peak_hz(audio[:, 1], RATE) - 1000) < 20


def test_stop_ends_the_replay_at_the_next_chunk(room: Path) -> None:
    clock = _Clock()
    got: list[AudioChunk] = []
    for chunk in replay(room, chunk_s=0.1, clock=clock, sleep=clock.sleep, stop=lambda: len(got) >= 3):
        got.append(chunk)
    assert len(got) == 3


@pytest.mark.parametrize(("option", "value"), [("chunk_s", 0.001), ("chunk_s", 6.0), ("speed", 0.0), ("speed", 1000.0)])
def test_nonsense_pacing_is_refused_with_the_value(room: Path, option: str, value: float) -> None:
    with pytest.raises(ValueError, match=str(value)):
        pacing: dict[str, Any] = {option: value}
        next(replay(room, **pacing))

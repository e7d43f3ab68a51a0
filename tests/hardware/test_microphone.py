"""Room inputs through sounddevice/PortAudio on a real-time virtual microphone, and file stand-ins."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from hardware.config import MicrophoneConfig
from hardware.media import AudioChunk
from hardware.microphone import BLOCK_S, DeviceMicrophone, DeviceState, FileMicrophone
from tests.pulse_audio import VirtualMicrophone, write_wav

RATE = 48000


def _tones(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 1000 * t)], axis=1).astype(np.float32)


def _collect(mic, until: float) -> list[AudioChunk]:
    got: list[AudioChunk] = []
    for block in mic.blocks(timeout=0.2):
        got.append(block)
        if time.monotonic() > until:
            break
    return got


def _collect_until_quiet(mic, deadline: float) -> list[AudioChunk]:
    """Blocks until the tones have been heard and have stopped again (or the deadline passes)."""
    got: list[AudioChunk] = []
    heard = False
    for block in mic.blocks(timeout=0.2):
        got.append(block)
        loud = float(np.sqrt(np.mean(block.samples[:, 0] ** 2))) > 0.1
        if (heard and not loud) or time.monotonic() > deadline:
            break
        heard = heard or loud
    return got


def _peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * RATE / len(x))


def test_a_device_records_in_real_time_channel_by_channel(virtual_mic: VirtualMicrophone, tmp_path: Path) -> None:
    states: list[DeviceState] = []
    mic = DeviceMicrophone(MicrophoneConfig("ban-hop", device="default", channels=2, sample_rate=RATE), lambda n, s, d: states.append(s))
    mic.start()
    try:
        deadline = time.monotonic() + 10  # the device is open and delivering before the room speaks
        while DeviceState.CONNECTED not in states and time.monotonic() < deadline:
            time.sleep(0.05)
        # a null sink's monitor starts delivering only once something plays: half a second of the
        # room's silence first, so the tones that follow all reach an open, running capture
        silence = np.zeros((RATE // 2, 2), dtype=np.float32)
        virtual_mic.play(write_wav(tmp_path / "tones.wav", np.concatenate([silence, _tones(2.0)]), RATE))
        blocks = _collect_until_quiet(mic, time.monotonic() + 15)
    finally:
        mic.stop()
    assert DeviceState.CONNECTED in states
    audio = np.concatenate([b.samples for b in blocks])
    assert audio.shape[1] == 2
    loud = np.concatenate([b.samples for b in blocks if np.sqrt(np.mean(b.samples[:, 0] ** 2)) > 0.1])
    assert len(loud) > 1.8 * RATE, len(loud) / RATE  # the 2 s played arrived
    assert abs(_peak_hz(loud[:RATE, 0]) - 440) < 5 and abs(_peak_hz(loud[:RATE, 1]) - 1000) < 5  # each channel is its own seat
    walls = [b.start for b in blocks]
    assert all(b > a for a, b in zip(walls, walls[1:], strict=False))
    assert abs(blocks[-1].start + blocks[-1].duration - time.time()) < 1.0  # stamped with real time


def test_a_vanished_device_is_reported_and_reconnected(virtual_mic: VirtualMicrophone, tmp_path: Path) -> None:
    # a null sink's monitor only delivers while something plays: the room is kept talking
    talk = write_wav(tmp_path / "talk.wav", _tones(20.0), RATE)
    virtual_mic.play(talk)
    changes: list[tuple[DeviceState, float]] = []

    def on_state(name: str, state: DeviceState, detail: str) -> None:
        changes.append((state, time.monotonic()))

    mic = DeviceMicrophone(
        MicrophoneConfig("ban-hop", device="default", channels=2, sample_rate=RATE), on_state, retry_s=0.3, max_retry_s=1.0
    )
    mic.start()
    drain = threading.Thread(target=lambda: [None for _ in mic.blocks()], daemon=True)
    drain.start()
    try:
        deadline = time.monotonic() + 10
        while DeviceState.CONNECTED not in [s for s, _ in changes] and time.monotonic() < deadline:
            time.sleep(0.05)
        virtual_mic.unplug()  # the interface is pulled out
        while DeviceState.LOST not in [s for s, _ in changes] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert DeviceState.LOST in [s for s, _ in changes], (changes, mic.captured_s)
        lost_at = time.monotonic()
        time.sleep(1.0)
        virtual_mic.plug()
        virtual_mic.play(talk)
        while [s for s, _ in changes][-1] != DeviceState.CONNECTED and time.monotonic() < deadline + 10:
            time.sleep(0.05)
        assert [s for s, _ in changes][-1] == DeviceState.CONNECTED, changes
        assert mic.reconnects == 1
        before = mic.captured_s
        flowing = time.monotonic() + 6  # PortAudio's ALSA-to-PulseAudio path buffers ~1.5 s at open
        while mic.captured_s - before < 0.5 and time.monotonic() < flowing:
            time.sleep(0.1)
        assert mic.captured_s - before >= 0.5  # audio flows again
        assert changes[-1][1] - lost_at < 8
    finally:
        mic.stop()


def test_a_file_stands_in_for_the_room_interface(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "room.wav", _tones(1.0), RATE)
    states: list[DeviceState] = []
    mic = FileMicrophone(MicrophoneConfig("ban-hop", file=path, channels=2, sample_rate=16000), lambda n, s, d: states.append(s), speed=4.0)
    started = time.monotonic()
    mic.start()
    blocks = list(mic.blocks(timeout=0.1))
    took = time.monotonic() - started
    audio = np.concatenate([b.samples for b in blocks])
    assert audio.shape == (16000, 2) or abs(len(audio) - 16000) < 200, audio.shape
    assert 0.2 < took < 1.0  # paced: 1 s of audio at 4x
    assert states[-1] == DeviceState.ENDED
    assert blocks[0].sample_rate == 16000 and abs(blocks[1].start - blocks[0].start - BLOCK_S / 4) < 0.002


def test_a_file_with_too_few_channels_is_refused_clearly(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "mono.wav", _tones(0.5)[:, 0], RATE)
    states: list[tuple[DeviceState, str]] = []
    mic = FileMicrophone(MicrophoneConfig("ban-hop", file=path, channels=2), lambda n, s, d: states.append((s, d)))
    mic.start()
    assert list(mic.blocks(timeout=0.1)) == []
    assert states[-1][0] == DeviceState.LOST and "1 channels" in states[-1][1], states


def test_a_looped_file_goes_on_without_a_gap_on_the_input_clock(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "room.wav", _tones(0.2), RATE)
    states: list[DeviceState] = []
    config = MicrophoneConfig("ban-hop", file=path, channels=2, sample_rate=16000, loop=True)
    mic = FileMicrophone(config, lambda n, s, d: states.append(s), speed=10.0)
    mic.start()
    try:
        blocks: list[AudioChunk] = []
        for block in mic.blocks(timeout=0.2):
            blocks.append(block)
            if sum(b.duration for b in blocks) >= 0.7:  # three and a half times round
                break
    finally:
        mic.stop()
    steps = np.diff([b.start for b in blocks])
    assert np.allclose(steps, BLOCK_S / 10, atol=1e-6), steps  # the file's seconds at 10x, across each restart
    assert DeviceState.ENDED not in states and states[-1] == DeviceState.STOPPED

"""The room's loudspeakers through sounddevice/PortAudio: what is played comes out of the device in
real time (heard back on the virtual device's monitor, as a room microphone would hear it)."""

from __future__ import annotations

import threading
import time

import numpy as np

from hardware.config import MicrophoneConfig
from hardware.loudspeaker import Loudspeaker
from hardware.media import AudioChunk
from hardware.microphone import DeviceMicrophone, DeviceState
from tests.hardware.test_microphone import _collect, _peak_hz
from tests.pulse_audio import VirtualMicrophone

RATE = 48000


def test_remote_voices_come_out_of_the_loudspeakers(virtual_mic: VirtualMicrophone) -> None:
    states: list[DeviceState] = []
    speaker = Loudspeaker("default", lambda n, s, d: states.append(s))
    mic = DeviceMicrophone(MicrophoneConfig("nghe-lai", device="default", channels=2, sample_rate=RATE))
    speaker.start()
    mic.start()
    try:
        deadline = time.monotonic() + 10
        while speaker.state != DeviceState.CONNECTED and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        t = np.arange(int(2.0 * RATE)) / RATE
        tone = (0.3 * np.sin(2 * np.pi * 660 * t)).astype(np.float32)
        # listen while playing, not after: the microphone's buffer would drop the oldest blocks; until
        # 3 s after the end, as the device plays with its own latency (PulseAudio: up to ~2 s at first)
        heard: list[AudioChunk] = []
        listener = threading.Thread(target=lambda: heard.extend(_collect(mic, time.monotonic() + 5.0)))
        listener.start()
        started = time.monotonic()
        for i in range(0, len(tone), 960):  # 20 ms frames at real-time pace, as the conference mixer sends them
            speaker.play(tone[i : i + 960])
            time.sleep(max(0.0, started + (i + 960) / RATE - time.monotonic()))
        listener.join()
        blocks = heard
    finally:
        mic.stop()
        speaker.stop()
    assert DeviceState.CONNECTED in states
    loud = np.concatenate([b.samples[:, 0] for b in blocks if np.sqrt(np.mean(b.samples[:, 0] ** 2)) > 0.1])
    assert len(loud) > 1.5 * RATE, (len(loud) / RATE, speaker.played_s, speaker.dropped_s, states, len(blocks))
    assert abs(_peak_hz(loud[:RATE]) - 660) < 5
    assert speaker.played_s >= 2.0 and speaker.dropped_s < 0.1, (speaker.played_s, speaker.dropped_s)

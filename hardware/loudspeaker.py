"""The room's loudspeakers: what remote participants say, played through a PortAudio output.

Frames arrive every 20 ms from the conference mixer (another thread); a writer thread hands them
to the output stream as they come. When the device reports that it ran dry (a frame came late: the
machine was busy), one frame of silence is added to its cushion, up to ``max_cushion`` frames: a
little more delay, once, instead of a click in every late frame from then on.
At most ``max_queued_s`` waits (a device that plays slow loses the oldest audio rather than
drifting behind the meeting). Lost and reopened like a microphone.
"""

from __future__ import annotations

import logging
import queue
import threading

import numpy as np

from hardware.microphone import DeviceState, Reporting, StateCallback, _close, _count_open, _portaudio_lock, _reason

log = logging.getLogger(__name__)


class Loudspeaker(Reporting):
    kind = "loudspeaker"

    def __init__(
        self, device: str | int, on_state: StateCallback | None = None, *, name: str = "loa", sample_rate: int = 48_000,
        block: int = 960, max_queued_s: float = 0.2, retry_s: float = 1.0, max_retry_s: float = 10.0, latency: str | float = "high",
        max_cushion: int = 4,
    ) -> None:  # fmt: skip
        self.device, self.name, self.on_state = device, name, on_state
        self.sample_rate, self.block, self.latency = sample_rate, block, latency
        self.state = DeviceState.STARTING
        self.detail = ""
        self.played_s = 0.0
        self.dropped_s = 0.0
        self.underruns = 0  # times the device ran dry while frames were coming
        self.max_cushion = max_cushion
        self.retry_s, self.max_retry_s = retry_s, max_retry_s
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=max(1, int(max_queued_s * sample_rate / block)))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def play(self, samples: np.ndarray, wall: float = 0.0) -> None:
        """Thread-safe: mono float32 at ``sample_rate``."""
        while True:
            try:
                self._queue.put_nowait(samples)
                return
            except queue.Full:
                try:
                    self.dropped_s += len(self._queue.get_nowait()) / self.sample_rate
                except queue.Empty:
                    pass

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"speaker-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._set(DeviceState.STOPPED, "")

    def _run(self) -> None:
        import sounddevice as sd

        pause = self.retry_s
        while not self._stop.is_set():
            try:
                with _portaudio_lock:
                    stream = sd.OutputStream(device=self.device, channels=1, samplerate=self.sample_rate, dtype="float32",
                                             latency=self.latency)  # fmt: skip
                    stream.start()
                    _count_open(+1)
                # primed before it counts as connected: a sound server may hold the first write for
                # a second or two (measured 1.8 s on PulseAudio), which must not eat the first words
                stream.write(np.zeros((self.block * 5, 1), np.float32))
            except Exception as exc:
                self._set(DeviceState.LOST, _reason(exc))
                self._stop.wait(pause)
                pause = min(self.max_retry_s, pause * 2)
                continue
            pause = self.retry_s
            self._set(DeviceState.CONNECTED, f"{self.device!s}, {self.sample_rate} Hz")
            cushion = 0
            try:
                while not self._stop.is_set():
                    try:
                        frame = self._queue.get(timeout=0.5)
                    except queue.Empty:
                        continue  # nothing to say: the device runs dry and plays silence by itself
                    # blocks until the device has room: this paces the loop. No silence is written
                    # in between: every frame of it would add to the delay for good.
                    if stream.write(np.ascontiguousarray(frame, np.float32).reshape(-1, 1)):  # it had run dry
                        self.underruns += 1
                        if cushion < self.max_cushion:
                            cushion += 1
                            stream.write(np.zeros((self.block, 1), np.float32))
                    self.played_s += len(frame) / self.sample_rate
            except Exception as exc:  # PortAudioError: the device went away
                self._set(DeviceState.LOST, _reason(exc))
            closer = threading.Thread(target=_close, args=(stream,), name=f"speaker-close-{self.name}", daemon=True)
            closer.start()
            closer.join(timeout=2.0)

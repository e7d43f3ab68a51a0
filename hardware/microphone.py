"""Room audio inputs: a PortAudio device (through sounddevice) or a file replayed at real-time pace,
behind one interface. Each input captures on its own thread into a bounded buffer; a consumer that
falls behind loses the oldest audio (counted), never blocks the capture. A device that disappears
is reported (``on_state``) and reopened when it returns.

Chunks (``hardware.media.AudioChunk``, one column per channel) start at the wall-clock time of their
first sample, so that recordings and captions of several inputs, and the pieces of one input before
and after an outage, line up on the meeting's clock.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from hardware.config import MicrophoneConfig
from hardware.errors import AudioError, DeviceError
from hardware.media import AudioChunk
from hardware.replay import replay

if TYPE_CHECKING:  # sounddevice loads PortAudio: only when a microphone opens
    from sounddevice import InputStream

log = logging.getLogger(__name__)
BLOCK_S = 0.02  # 20 ms: the room reaches remote participants this much sooner (measured 213 -> see README)
_portaudio_lock = threading.Lock()  # PortAudio is initialised once per process; rescans must not race opens
_open_streams = 0  # a rescan would cut these off: it waits until there are none


class DeviceState(StrEnum):
    STARTING = "starting"
    CONNECTED = "connected"
    LOST = "lost"
    ENDED = "ended"  # a replayed file came to its end
    STOPPED = "stopped"


StateCallback = Callable[[str, DeviceState, str], None]  # (device name, state, detail)


class Reporting:
    """A device's state, each change logged and passed to ``on_state`` (a repeat only updates the detail)."""

    kind = "device"
    name: str
    state: DeviceState
    detail: str
    on_state: StateCallback | None

    def _set(self, state: DeviceState, detail: str) -> None:
        if state == self.state:
            self.detail = detail  # the same trouble told differently: not a new change
            return
        self.state, self.detail = state, detail
        log.log(logging.WARNING if state == DeviceState.LOST else logging.INFO, "%s %s: %s %s", self.kind, self.name, state, detail)
        if self.on_state is not None:
            try:
                self.on_state(self.name, state, detail)
            except Exception:
                log.exception("%s %s: state callback failed", self.kind, self.name)


class Microphone(Reporting):
    """The buffer, the state and the thread that every input shares."""

    kind = "microphone"

    def __init__(self, config: MicrophoneConfig, on_state: StateCallback | None, buffer_s: float) -> None:
        self.config = config
        self.name = config.name
        self.on_state = on_state
        self.state = DeviceState.STARTING
        self.detail = ""
        self.dropped_s = 0.0
        self.captured_s = 0.0
        self._queue: queue.Queue[AudioChunk] = queue.Queue(maxsize=max(1, int(buffer_s / BLOCK_S)))
        self._stop = threading.Event()
        self._finished = threading.Event()  # the capture thread has returned: nothing more will come
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._guarded, name=f"mic-{self.name}", daemon=True)
        self._thread.start()

    def _guarded(self) -> None:
        try:
            self._run()
        except Exception as exc:
            log.exception("microphone %s: capture failed", self.name)
            self._set(DeviceState.LOST, _reason(exc))
        finally:
            self._finished.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._set(DeviceState.STOPPED, "")

    def blocks(self, timeout: float = 0.5) -> Iterator[AudioChunk]:
        """What was captured, in order, until the input is stopped (or a file ends)."""
        while True:
            try:
                yield self._queue.get(timeout=timeout)
            except queue.Empty:
                if self._stop.is_set() or self._finished.is_set():
                    return

    def _push(self, block: AudioChunk) -> None:
        self.captured_s += block.duration
        while True:
            try:
                self._queue.put_nowait(block)
                return
            except queue.Full:
                try:
                    self.dropped_s += self._queue.get_nowait().duration
                except queue.Empty:
                    pass

    def _run(self) -> None:
        raise NotImplementedError


class DeviceMicrophone(Microphone):
    """A PortAudio input device. Reopened after ``retry_s`` (growing to ``max_retry_s``) when lost;
    a stream that delivers nothing for ``stall_s`` counts as lost (a USB device pulled out may
    leave PortAudio waiting forever)."""

    def __init__(
        self, config: MicrophoneConfig, on_state: StateCallback | None = None, *, buffer_s: float = 10.0,
        retry_s: float = 1.0, max_retry_s: float = 10.0, stall_s: float = 2.0,
    ) -> None:  # fmt: skip
        super().__init__(config, on_state, buffer_s)
        self.retry_s, self.max_retry_s, self.stall_s = retry_s, max_retry_s, stall_s
        self.reconnects = 0

    def _open(self) -> InputStream:
        import sounddevice as sd

        c = self.config
        with _portaudio_lock:  # blocking mode: PortAudio starts no thread of its own that could spin on a dead device
            stream = sd.InputStream(device=c.device, channels=c.channels, samplerate=c.sample_rate, dtype="float32",
                                    blocksize=int(c.sample_rate * BLOCK_S))  # fmt: skip
            stream.start()
            _count_open(+1)
        return stream

    def _read(self, stream: InputStream) -> None:
        """Read until the device fails, stalls or the input is stopped."""
        c = self.config
        block = int(c.sample_rate * BLOCK_S)
        opened, frames, last = time.time(), 0, time.monotonic()
        while not self._stop.is_set():
            try:
                available = stream.read_available
                if available < block:
                    if time.monotonic() - last > self.stall_s or not stream.active:
                        return
                    time.sleep(0.02)
                    continue
                data, _overflowed = stream.read(block)
            except Exception as exc:  # PortAudioError: the device went away
                self.detail = _reason(exc)
                return
            last = time.monotonic()
            wall = opened + frames / c.sample_rate
            late = time.time() - (wall + block / c.sample_rate)
            if late > 0.5:  # the device held audio back or skipped (an idle sound server): back on the clock
                opened += late
                wall += late
            self._push(AudioChunk(np.array(data, copy=True), wall, self.name, sample_rate=c.sample_rate))
            frames += block

    def _run(self) -> None:
        pause = self.retry_s
        ever = False
        while not self._stop.is_set():
            try:
                stream = self._open()
            except Exception as exc:  # PortAudioError, ValueError (no such device): keep trying
                self._set(DeviceState.LOST, _reason(exc))
                if "matching" in str(exc) or "Illegal combination" in str(exc) or "Invalid device" in str(exc):
                    rescan()  # a device that came back after PortAudio started is only seen after a rescan
                self._stop.wait(pause)
                pause = min(self.max_retry_s, pause * 2)
                continue
            if ever:
                self.reconnects += 1
            ever = True
            pause = self.retry_s
            self._set(DeviceState.CONNECTED, _describe(self.config))
            self._read(stream)
            if not self._stop.is_set():
                self._set(DeviceState.LOST, "thiết bị ngừng gửi âm thanh / the device stopped sending audio")
            closer = threading.Thread(target=_close, args=(stream,), name=f"mic-close-{self.name}", daemon=True)
            closer.start()
            closer.join(timeout=2.0)
            if closer.is_alive():
                log.warning("microphone %s: PortAudio did not release the old stream; reopening anyway", self.name)


def _close(stream: InputStream) -> None:
    try:
        stream.close(ignore_errors=True)
    except Exception:
        pass
    finally:
        with _portaudio_lock:
            _count_open(-1)


def _count_open(delta: int) -> None:
    global _open_streams
    _open_streams += delta


class FileMicrophone(Microphone):
    """A recording played as a live input (``hardware.replay``): its channels as they are, resampled
    to the configured rate, released at real-time pace (``speed`` faster), from the beginning again
    when ``loop`` is set. The stand-in for a room's audio interface."""

    def __init__(
        self, config: MicrophoneConfig, on_state: StateCallback | None = None, *, buffer_s: float = 10.0, speed: float = 1.0
    ) -> None:
        super().__init__(config, on_state, buffer_s)
        if config.file is None:
            raise DeviceError(f"Micrô {config.name} không có tệp", f"Microphone {config.name} has no file", microphone=config.name)
        self.speed = speed
        self.wall0: float | None = None  # the wall-clock time of the file's second 0 (a benchmark lines its audio up by it)

    def _run(self) -> None:
        path = self.config.file
        assert path is not None
        c = self.config
        wall0 = self.wall0 = time.time()
        offset = 0.0  # file seconds released by earlier loops
        while not self._stop.is_set():
            chunks = replay(path, rate=c.sample_rate, channels=c.channels, chunk_s=BLOCK_S, speed=self.speed, source=self.name,
                            strict=True, stop=self._stop.is_set, sleep=self._stop.wait)  # fmt: skip
            released = offset
            try:
                for chunk in chunks:
                    if self.state != DeviceState.CONNECTED:
                        self._set(DeviceState.CONNECTED, f"tệp / file {path.name}")
                    self._push(AudioChunk(chunk.samples, wall0 + (offset + chunk.start) / self.speed, self.name, sample_rate=c.sample_rate))
                    released = offset + chunk.end
            except (DeviceError, AudioError) as exc:
                self._set(DeviceState.LOST, exc.message_en)
                return
            if self._stop.is_set():
                return
            if not c.loop:
                self._set(DeviceState.ENDED, f"tệp / file {path.name}")
                return
            offset = released


def open_microphone(config: MicrophoneConfig, on_state: StateCallback | None = None, **options: float) -> Microphone:
    if config.is_file:
        return FileMicrophone(config, on_state, **{k: v for k, v in options.items() if k in ("buffer_s", "speed")})
    return DeviceMicrophone(config, on_state, **{k: v for k, v in options.items() if k != "speed"})


def rescan() -> bool:
    """Let PortAudio enumerate devices again (one plugged in, a sound server restarted). It would
    cut off streams that are running, so it is skipped (False) while any is open in this process."""
    import sounddevice as sd

    with _portaudio_lock:
        if _open_streams:
            return False
        try:
            sd._terminate()
        finally:
            sd._initialize()
    return True


def _describe(c: MicrophoneConfig) -> str:
    return f"{c.device!s}, {c.channels} kênh / channels, {c.sample_rate} Hz"


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__

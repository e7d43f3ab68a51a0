"""Media between the conference and aiortc: the tracks the server sends, and readers of the
tracks it receives.

Sent: ``MixTrack`` (a listener's mix-minus from the ``Mixer``, as Opus) and ``VideoTrack`` (the room camera,
through one ``VideoBroadcast`` converted once to the sending size and frame rate, then encoded per
peer by aiortc). Received: ``read_audio`` turns a participant's decoded Opus into 48 kHz mono
``AudioChunk``s; ``read_video`` hands on at most ``fps`` RGB ``Frame``s a second (for face check-in).
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hardware.media import AudioChunk, Frame
from webrtc.mixer import FRAME, RATE, Tally

log = logging.getLogger(__name__)
VIDEO_CLOCK = 90_000
FRAMES_DROPPED = Tally()  # 20 ms frames that any ``MixTrack`` of this process dropped before sending


class MixTrack(MediaStreamTrack):
    """Audio to one remote participant: Opus payloads of their mix, encoded by the mixer thread
    (once per distinct mix) and handed to aiortc as packets, which it only packetises. At most
    ``max_queued`` wait: a sender that falls behind loses the oldest rather than adding delay. The
    event loop hands them on in bursts whenever it was busy for a few frames (with 16 open
    microphones it often is, for 40–100 ms), so the bound is 120 ms: with 40 ms every such burst lost
    frames for every listener at once, although the sender then caught up at once. The price: after
    such a stall the first packets of the burst go out up to that much late (aiortc sends what is
    queued without pacing), for the listener's jitter buffer to absorb instead of a gap to conceal."""

    kind = "audio"

    def __init__(self, loop: asyncio.AbstractEventLoop, max_queued: int = 6) -> None:
        super().__init__()
        self._event_loop = loop  # not pyee's optional ``_loop`` of the base class
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._max = max_queued
        self._pts = 0
        self.dropped = 0
        self.last_wall = 0.0

    def sink(self, payload: bytes, wall: float) -> None:
        """Thread-safe (the mixer's thread)."""
        if self.readyState == "live":
            self._event_loop.call_soon_threadsafe(self._put, payload, wall)

    def _put(self, payload: bytes, wall: float) -> None:
        while self._queue.qsize() >= self._max:
            self._queue.get_nowait()
            self.dropped += 1
            FRAMES_DROPPED.add()
            self._pts += FRAME  # the gap shows in the timestamps: the receiver conceals it rather than running late
        self._queue.put_nowait(payload)
        self.last_wall = wall

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        packet = av.Packet(await self._queue.get())
        # its own clock: the payloads of a shared mix carry no stream's timestamps
        packet.pts, packet.time_base = self._pts, fractions.Fraction(1, RATE)
        self._pts += FRAME
        return packet


class VideoBroadcast:
    """The room camera as one stream of ``yuv420p`` frames at the sending size and rate, shared by
    every peer's ``VideoTrack`` (converted once here, not once per peer)."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._frame: av.VideoFrame | None = None
        self._seq = 0
        self._next = 0.0
        self._t0: float | None = None
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def publish(self, rgb: np.ndarray) -> None:
        """Thread-safe: an RGB frame from the camera; frames above ``fps`` are skipped before conversion."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = max(self._next + 1.0 / self.fps, now - 0.5 / self.fps)  # on a schedule: 25 in -> 15 out, not 12.5
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        if self._t0 is None:
            self._t0 = now
        # one pts for every peer: the encoders only read the frame, and each RTP sender adds its own offset
        frame.pts = int((now - self._t0) * VIDEO_CLOCK)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        with self._lock:
            self._frame, self._seq = frame, self._seq + 1
            waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def next(self, after: int) -> tuple[int, av.VideoFrame]:
        """The newest frame later than sequence number ``after``."""
        while True:
            with self._lock:
                if self._frame is not None and self._seq > after:
                    return self._seq, self._frame
                event = asyncio.Event()
                self._waiters.append((asyncio.get_running_loop(), event))
            await event.wait()


class VideoTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, source: VideoBroadcast) -> None:
        super().__init__()
        self.source = source
        self._seq = 0

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        self._seq, frame = await self.source.next(self._seq)
        return frame


_DOWNMIX = {"mono": 1.0 / 32768, "stereo": np.sqrt(0.5) / 32768}  # scale of the channels' sum: libswresample's downmix (L+R)·√½


def _mono(frame: av.AudioFrame) -> np.ndarray | None:
    """What aiortc's Opus decoder gives (interleaved 16-bit at 48 kHz, stereo) straight to mono
    float32, at the level libswresample would give; None for anything else. On the event loop for
    every participant's every 20 ms: ~4 µs here against ~50 µs through a resampler."""
    layout = frame.layout.name
    if frame.sample_rate != RATE or frame.format.name != "s16" or layout not in _DOWNMIX:
        return None
    channels = frame.layout.nb_channels
    pcm = np.frombuffer(memoryview(frame.planes[0]), np.int16, count=frame.samples * channels)
    # L + R as two strided adds: ``pcm.reshape(-1, 2).sum(axis=1)`` was 5x slower (a reduction over an
    # axis of two), and took ~10 % of a core on the event loop with 16 open microphones
    out = pcm[0::channels].astype(np.float32)
    if channels > 1:
        out += pcm[1::channels]
    out *= np.float32(_DOWNMIX[layout])
    return out


async def read_audio(track: MediaStreamTrack, on_chunk: Callable[[AudioChunk], None], source: str = "remote") -> None:
    """Until the track ends: its audio as mono float32 chunks at 48 kHz, starting at the wall-clock time it arrived."""
    resampler: av.AudioResampler | None = None  # only for a format ``_mono`` does not take
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        assert isinstance(frame, av.AudioFrame), "an audio track's frames"
        wall = time.time()
        mono = _mono(frame)
        if mono is not None:
            on_chunk(AudioChunk(mono, wall - len(mono) / RATE, source, None, RATE))
            continue
        resampler = resampler or av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for out in resampler.resample(frame):
            samples = out.to_ndarray().reshape(-1)
            on_chunk(AudioChunk(samples, wall - len(samples) / RATE, source, None, RATE))


async def read_video(
    track: MediaStreamTrack, on_frame: Callable[[Frame], Awaitable[None] | None] | None, fps: float, source: str = "remote"
) -> None:
    """Until the track ends: at most ``fps`` RGB frames a second to ``on_frame`` (decoding the rest is
    unavoidable, converting them is not). With no ``on_frame`` the track is only drained: aiortc keeps
    decoded frames in an unbounded queue until someone reads them."""
    last = 0.0
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        assert isinstance(frame, av.VideoFrame), "a video track's frames"
        now = time.monotonic()
        if on_frame is None or now - last < 1.0 / fps:
            continue
        last = now
        try:
            result = on_frame(Frame(frame.to_ndarray(format="rgb24"), time.time(), source))
            if asyncio.iscoroutine(result):
                await result
        except Exception:  # whatever the frame was for failed: the track is still drained (see above)
            log.exception("video from %s: handling a frame failed", source)

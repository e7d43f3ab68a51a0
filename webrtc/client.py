"""A remote participant without a browser: joins a meeting's call over the signalling WebSocket
with an aiortc peer, sends audio (a recording, or silence) and, if given, video (a still picture as
a camera), and keeps what it hears.

What the tests and the benchmark use as "the other end"; also the way a machine (another room, a
recorder, an SFU bridge) can take part as a participant.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hardware.media import AudioChunk
from webrtc.errors import SignallingError
from webrtc.ice import parse_ice_servers, rtc_configuration
from webrtc.janus import JanusSession, Publisher, Subscriber
from webrtc.mixer import FRAME, RATE
from webrtc.tracks import read_audio

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection


class ArrayAudioTrack(MediaStreamTrack):
    """Mono float32 samples at 48 kHz sent in real time (20 ms frames), then silence."""

    kind = "audio"

    def __init__(self, samples: np.ndarray | None = None) -> None:
        super().__init__()
        self.samples = np.zeros(0, np.float32) if samples is None else np.asarray(samples, np.float32)
        self._pts = 0
        self._offset = 0  # the frame at which ``samples`` begin
        self._start: float | None = None

    def play(self, samples: np.ndarray) -> None:
        """Send these samples from the next frame on (what was playing stops)."""
        self.samples, self._offset = np.asarray(samples, np.float32), self._pts

    @property
    def played(self) -> bool:
        """Everything given to ``play`` has been sent."""
        return self._pts - self._offset >= len(self.samples)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        i = self._pts - self._offset
        chunk = self.samples[i : i + FRAME]
        out = np.zeros(FRAME, np.float32)
        out[: len(chunk)] = chunk
        frame = av.AudioFrame.from_ndarray((np.clip(out, -1, 1) * 32767).astype("<i2").reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._pts, fractions.Fraction(1, RATE)
        self._pts += FRAME
        return frame


class ImageVideoTrack(MediaStreamTrack):
    """A still RGB picture sent as a camera at ``fps`` frames a second (``show`` changes it)."""

    kind = "video"

    def __init__(self, image: np.ndarray, fps: float = 5.0) -> None:
        super().__init__()
        self.fps = fps
        self.sent = 0
        self._image = self._even(image)
        self._start: float | None = None

    @staticmethod
    def _even(image: np.ndarray) -> np.ndarray:
        height, width = (d - d % 2 for d in image.shape[:2])  # the encoder's yuv420p needs even sizes
        return np.ascontiguousarray(image[:height, :width])

    def show(self, image: np.ndarray) -> None:
        self._image = self._even(image)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self.sent / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.VideoFrame.from_ndarray(self._image, format="rgb24")
        frame.pts, frame.time_base = round(self.sent * 90_000 / self.fps), fractions.Fraction(1, 90_000)
        self.sent += 1
        return frame


@dataclass
class Heard:
    """What came in: audio blocks with their arrival time, and video frame count."""

    audio: list[tuple[float, np.ndarray]] = field(default_factory=list)  # the last ``keep_audio_s``
    audio_samples: int = 0  # every sample heard since joining
    video_frames: int = 0
    video_size: tuple[int, int] | None = None

    def samples(self, since: float = 0.0) -> np.ndarray:
        blocks = [b for t, b in self.audio if t >= since]
        return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


class CallClient:
    def __init__(
        self, url: str, token: str, *, audio: MediaStreamTrack | None = None, receive_video: bool = False,
        video: MediaStreamTrack | None = None, ssl_context: ssl.SSLContext | None = None, keep_audio_s: float = 120.0,
        hear_others: bool = True,
    ) -> None:  # fmt: skip
        self.url, self.token, self.ssl = url, token, ssl_context
        self.audio = audio or ArrayAudioTrack()
        self.video, self.receive_video = video, receive_video
        self.heard = Heard()
        self.states: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.keep_audio_s = keep_audio_s
        self.pc: RTCPeerConnection | None = None
        self.janus: JanusSession | None = None  # a meeting through the Janus SFU: its session and peers
        self.publisher: Publisher | None = None
        self.subscribers: dict[int, Subscriber] = {}
        self.hear_others = hear_others
        self._ws: ClientConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()

    async def join(self, timeout: float = 20.0) -> None:
        from websockets.asyncio.client import connect

        self._ws = await connect(self.url, additional_headers={"Authorization": f"Bearer {self.token}"}, ssl=self.ssl, max_size=2**20)
        welcome = json.loads(await asyncio.wait_for(self._ws.recv(), timeout))
        if welcome.get("type") != "welcome":
            raise SignallingError(f"Máy chủ từ chối: {welcome}", f"The server refused: {welcome}")
        if "janus" in welcome:
            await self._join_janus(welcome, timeout)
            return
        self.pc = RTCPeerConnection(rtc_configuration(parse_ice_servers(welcome["ice_servers"])))
        self.pc.addTrack(self.audio)
        if self.video is not None:
            self.pc.addTrack(self.video)
        elif self.receive_video:
            self.pc.addTransceiver("video", direction="recvonly")

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.ensure_future(self._read(track)))

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            assert self.pc is not None
            self.states.append(self.pc.connectionState)
            if self.pc.connectionState == "connected":
                self.connected.set()

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self._ws.send(json.dumps({"type": "offer", "sdp": self.pc.localDescription.sdp}))
        while True:
            msg = json.loads(await asyncio.wait_for(self._ws.recv(), timeout))
            if msg["type"] == "answer":
                break
            if msg["type"] == "error":
                raise SignallingError(msg["error"]["message"], msg["error"]["message_en"], code=msg["error"]["code"])
        await self.pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "answer"))
        self._tasks.append(asyncio.ensure_future(self._listen()))
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def _join_janus(self, welcome: dict[str, Any], timeout: float) -> None:
        """Publish into the meeting's Janus room and subscribe to the room (and, ``hear_others``, to
        every other participant), through the server's relay."""
        j = welcome["janus"]
        base = self.url.split("/api/", 1)[0]
        config = rtc_configuration(parse_ice_servers(welcome["ice_servers"]))
        self.janus = JanusSession(
            base + j["url"], token=j["token"], headers={"Authorization": f"Bearer {self.token}"}, ssl_context=self.ssl
        )
        await self.janus.connect()
        self.publisher = Publisher(self.janus, j["room"], j["feed"], j["display"], config, token=j["token"])
        self.publisher.add(self.audio)
        if self.video is not None:
            self.publisher.add(self.video)

        def published(new: list[dict[str, Any]]) -> None:
            for p in new:
                self._tasks.append(asyncio.ensure_future(self._subscribe(int(p["id"]), config, j)))

        self.publisher.on_publishers = published
        self.publisher.on_gone = self._gone
        self._tasks.append(asyncio.ensure_future(self._listen()))
        await asyncio.wait_for(self.publisher.publish(), timeout)
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def _subscribe(self, feed: int, config: Any, j: dict[str, Any]) -> None:
        if feed in self.subscribers or (feed != j["room_feed"] and not self.hear_others) or self.janus is None:
            return
        sub = self.subscribers[feed] = Subscriber(self.janus, j["room"], feed, config, token=j["token"])

        @sub.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.ensure_future(self._read(track)))

        @sub.pc.on("connectionstatechange")
        def _state() -> None:
            if feed == j["room_feed"]:
                self.states.append(sub.pc.connectionState)
                if sub.pc.connectionState == "connected":
                    self.connected.set()

        with contextlib.suppress(Exception):
            await sub.subscribe(audio_only=not self.receive_video)

    def _gone(self, feed: int) -> None:
        sub = self.subscribers.pop(feed, None)
        if sub is not None:
            self._tasks.append(asyncio.ensure_future(sub.close()))

    async def send(self, message: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send(json.dumps(message))

    async def _listen(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(Exception):
            async for raw in self._ws:
                self.messages.append(json.loads(raw))

    async def _read(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            await read_audio(track, self._heard_audio)
            return
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, av.VideoFrame), "a video track's frames"
            self.heard.video_frames += 1
            self.heard.video_size = (frame.width, frame.height)

    def _heard_audio(self, chunk: AudioChunk) -> None:
        now = time.time()  # when the frame carrying it arrived (decoded), what the delay is measured to
        self.heard.audio.append((now, chunk.samples.copy()))
        self.heard.audio_samples += len(chunk.samples)
        while self.heard.audio and self.heard.audio[0][0] < now - self.keep_audio_s:
            self.heard.audio.pop(0)

    async def drop(self) -> None:
        """The network goes away: the peer and the socket close without a goodbye."""
        await self._close()

    async def leave(self) -> None:
        """The participant leaves the meeting on purpose."""
        with contextlib.suppress(Exception):
            await self.send({"type": "leave"})
        await self._close()

    async def _close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        for sub in list(self.subscribers.values()):
            with contextlib.suppress(Exception):
                await sub.pc.close()
        if self.publisher is not None:
            await self.publisher.pc.close()
        if self.janus is not None:
            await self.janus.sock.close()
        if self._ws is not None:
            await self._ws.close()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

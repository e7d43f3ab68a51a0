"""One remote participant's peer connection on the server (aiortc), answering their offer.

The browser (or any WebRTC client) offers; the server answers with the participant's mix-minus
audio and, when the room has a camera, its video. What they send comes back through ``on_audio``
(48 kHz mono ``AudioChunk``s) and, when they share a camera, ``on_video`` (``Frame``s). There is no trickle ICE:
the client sends its offer once its candidates are gathered, and the answer carries the server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from hardware.media import AudioChunk, Frame
from webrtc.errors import SignallingError
from webrtc.tracks import MixTrack, VideoBroadcast, VideoTrack, read_audio, read_video

log = logging.getLogger(__name__)
MAX_SDP = 64 * 1024
CLOSE_S = 5.0  # how long a hang-up waits for aiortc to close a connection


class RemotePeer:
    def __init__(
        self,
        key: str,
        configuration: RTCConfiguration,
        *,
        on_audio: Callable[[AudioChunk], None],
        on_video: Callable[[Frame], Awaitable[None] | None] | None = None,
        video_in_fps: float = 1.0,
        on_state: Callable[[str], None] | None = None,
    ) -> None:
        self.key = key
        self.pc = RTCPeerConnection(configuration)
        self.on_audio, self.on_video, self.video_in_fps, self.on_state = on_audio, on_video, video_in_fps, on_state
        self.audio_out: MixTrack | None = None
        self.receiving_video = False
        self._readers: list[asyncio.Task[None]] = []
        self._closing: asyncio.Task[None] | None = None

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self._readers.append(asyncio.ensure_future(read_audio(track, self.on_audio, self.key)))
            elif track.kind == "video":
                self.receiving_video = True
                self._readers.append(asyncio.ensure_future(read_video(track, self.on_video, self.video_in_fps, self.key)))

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            log.info("peer %s: %s", self.key, self.pc.connectionState)
            if self.on_state is not None:
                self.on_state(self.pc.connectionState)

    async def answer(self, sdp: str, video: VideoBroadcast | None) -> str:
        """Take the participant's offer, attach the room's media, return the answer's SDP."""
        if not isinstance(sdp, str) or not sdp.strip():
            raise SignallingError("Thiếu SDP của lời mời kết nối", "The offer has no SDP", accepted="offer with sdp")
        if len(sdp) > MAX_SDP:
            raise SignallingError(
                f"SDP quá dài ({len(sdp)} ký tự, tối đa {MAX_SDP})", f"SDP too long ({len(sdp)} characters, at most {MAX_SDP})"
            )
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:  # aiortc raises ValueError and friends on SDP it cannot use
            raise SignallingError(f"SDP không hợp lệ: {exc}", f"The offer's SDP cannot be used: {exc}") from None
        kinds = {t.kind for t in self.pc.getTransceivers()}
        if "audio" not in kinds:
            raise SignallingError("Lời mời kết nối phải có âm thanh", "The offer must have an audio section", received=sorted(kinds))
        codec = _audio_codec(sdp)
        if codec != "audio/opus":  # the mixer's payloads are Opus, sent as they are
            raise SignallingError(
                "Lời mời kết nối phải ưu tiên âm thanh Opus", "The offer must prefer Opus audio",
                accepted="audio/opus first", received=codec,
            )  # fmt: skip
        self.audio_out = MixTrack(asyncio.get_running_loop())
        self.pc.addTrack(self.audio_out)
        if video is not None and "video" in kinds:
            self.pc.addTrack(VideoTrack(video))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    async def close(self, timeout: float = CLOSE_S) -> None:
        """Stop sending, close the connection, stop reading. A connection that takes longer than
        ``timeout`` to close (DTLS and ICE teardown on a stalled network or a busy machine) goes on
        closing in the background: a hang-up or a server shutdown does not wait for it. Not
        cancelled midway either: aiortc's ``close`` is not safe to interrupt."""
        if self.audio_out is not None:
            self.audio_out.stop()
        if self._closing is None:
            self._closing = asyncio.ensure_future(self.pc.close())
        try:
            await asyncio.wait_for(asyncio.shield(self._closing), timeout)
        except TimeoutError:
            log.warning("peer %s: still closing after %.0f s; left to finish in the background", self.key, timeout)
        except Exception:  # a failed close still ends the call
            log.exception("peer %s: closing", self.key)
        for task in self._readers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _audio_codec(sdp: str) -> str | None:
    """The codec aiortc will send to this offer: the first of the offer's audio codecs that aiortc
    has (by name and clock rate), in the offer's order. Every browser puts Opus first."""
    from aiortc.sdp import SessionDescription

    ours = {(c.mimeType.lower(), c.clockRate) for c in RTCRtpSender.getCapabilities("audio").codecs}
    for media in SessionDescription.parse(sdp).media:
        if media.kind == "audio":
            known = [c.mimeType.lower() for c in media.rtp.codecs if (c.mimeType.lower(), c.clockRate) in ours]
            return known[0] if known else None
    return None

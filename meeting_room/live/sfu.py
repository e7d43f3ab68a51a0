"""Janus as the SFU of large online sessions: the server starts it (or connects to one an operator
runs), creates one VideoRoom per meeting, publishes the room into it, and admits each remote
participant with a token of their own that it revokes when their call ends.

Who talks to Janus: the meeting server over Janus's loopback APIs (its API secret, the Admin
secret, the room secret, all in a 0600 file); participants only through the server's
``/api/meetings/{id}/janus`` WebSocket (``routes/calls.py``), with the token the server added for
them (Admin API ``add_token``) and put on the room's ``allowed`` list. Janus lost (killed, restarted
by an operator): every call through it ends with ``sfu_lost`` (pages reconnect), the hub restarts
or reconnects it, and rooms are created again as participants come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from aiortc.mediastreams import MediaStreamTrack

from hardware.media import AudioChunk
from webrtc.ice import IceServer, rtc_configuration
from webrtc.janus import (
    JanusAdmin,
    JanusError,
    JanusOptions,
    JanusProcess,
    JanusSecrets,
    JanusSession,
    Publisher,
    Subscriber,
    VideoRoom,
    write_config,
)
from webrtc.tracks import read_audio

log = logging.getLogger(__name__)
ROOM_FEED = 1  # the room's own feed in every meeting's VideoRoom
RETRY_S = 1.0


class SfuState(StrEnum):
    NOT_USED = "not_used"
    STARTING = "starting"
    RUNNING = "running"
    LOST = "lost"  # not reachable (killed, not started): being restarted or waited for


@dataclass(eq=False)
class SfuRoom:
    meeting_id: str
    id: int
    server_token: str  # the server's own joins (the room's feed, its subscriptions to each voice)
    publisher: Publisher | None = None
    feeds: dict[int, SfuPeer] = field(default_factory=dict)  # participants' feeds
    feed_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))


class SfuPeer:
    """A remote participant through Janus, seen from the server: their token and feed, and the
    server's subscription to their audio (what is captioned and played in the room)."""

    receiving_video = False

    def __init__(
        self, hub: Sfu, room: SfuRoom, member_id: str, token: str, feed: int,
        on_audio: Callable[[AudioChunk], None], on_state: Callable[[str], None],
    ) -> None:  # fmt: skip
        self.hub, self.room, self.member_id, self.token, self.feed = hub, room, member_id, token, feed
        self.on_audio, self.on_state = on_audio, on_state
        self.subscriber: Subscriber | None = None
        self._readers: list[asyncio.Task[None]] = []
        self.closed = False
        self.proxies: set[Callable[[], Any]] = set()  # the participant's open sockets to Janus: closed with the call
        self.sessions: set[int] = set()  # the Janus sessions they opened through them: destroyed with the call

    async def published(self) -> None:
        """Their feed is in the room: subscribe to its audio."""
        if self.closed or self.subscriber is not None or self.hub.session is None:
            return
        key = f"sfu:{self.member_id[:8]}"
        sub = self.subscriber = Subscriber(
            self.hub.session, self.room.id, self.feed, rtc_configuration(self.hub.ice_servers), token=self.room.server_token
        )

        @sub.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self._readers.append(asyncio.ensure_future(read_audio(track, self.on_audio, key)))

        @sub.pc.on("connectionstatechange")
        def _state() -> None:
            if not self.closed:
                self.on_state(sub.pc.connectionState)

        try:
            await sub.subscribe(audio_only=True)
        except JanusError as exc:
            log.warning("sfu: subscribing to %s: %s", self.member_id, exc.message_en)
            if not self.closed:
                self.on_state("failed")

    def unpublished(self) -> None:
        """Their feed left the room (their page closed Janus, or lost it): the server's subscription
        goes; the call itself ends with their call socket (a leave, a drop, a reconnect)."""
        if self.closed or self.subscriber is None:
            return
        sub, self.subscriber = self.subscriber, None
        self.on_state("disconnected")
        asyncio.ensure_future(self._drop(sub))

    async def _drop(self, sub: Subscriber) -> None:
        sub.pc.remove_all_listeners("connectionstatechange")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sub.close(), 5)

    async def close(self) -> None:
        """Revoke everything: out of the room (kicked), token removed, the subscription closed."""
        if self.closed:
            return
        self.closed = True
        self.room.feeds.pop(self.feed, None)
        for close in list(self.proxies):
            with contextlib.suppress(Exception):
                await close()
        await self.hub.revoke(self.room, self.token, self.feed, self.sessions)
        if self.subscriber is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.subscriber.close(), 5)
        for task in self._readers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class Sfu:
    """The server's Janus: its process (``run``) or address (``connect``), its session, its rooms."""

    def __init__(
        self, mode: str, folder: Path, options: JanusOptions, secrets_file: Path | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        self.mode, self.folder, self.options = mode, folder, options
        self.ice_servers: tuple[IceServer, ...] = options.ice_servers
        self.secrets_file = secrets_file or folder / "secrets.json"
        self.keys: JanusSecrets | None = None
        self.process: JanusProcess | None = None
        self.session: JanusSession | None = None
        self.admin: JanusAdmin | None = None
        self.rooms_api: VideoRoom | None = None
        self.rooms: dict[str, SfuRoom] = {}
        self.state = SfuState.STARTING
        self.detail = ""
        self.on_lost = on_lost
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = False

    # --- life ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start (or find) Janus and keep it: a lost Janus is restarted or waited for."""
        self.keys = JanusSecrets.load_or_create(self.secrets_file)
        if self.mode == "run":
            write_config(self.folder, self.options, self.keys)
            self.process = JanusProcess(self.folder, self.options)
        self._task = asyncio.create_task(self._keep())

    async def _keep(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if self.process is not None and not self.process.alive:
                    await loop.run_in_executor(None, self.process.start)
                await self._connect()
            except JanusError as exc:
                self._set(SfuState.LOST, exc.message_en)
                await asyncio.sleep(RETRY_S)
                continue
            self._set(SfuState.RUNNING, "")
            self._ready.set()
            assert self.session is not None
            await self.session.closed.wait()
            if self._stopping:
                return
            self._ready.clear()
            self._set(SfuState.LOST, "the connection to Janus was lost")
            await self._lost()

    async def _connect(self) -> None:
        assert self.keys is not None
        session = JanusSession(self.options.url, api_secret=self.keys.api_secret)
        await session.connect()
        admin = JanusAdmin(self.options.admin_url, self.keys.admin_secret)
        try:
            await admin.connect()
            handle = await session.attach()
        except JanusError:
            await session.close()
            await admin.close()
            raise
        self.session, self.admin, self.rooms_api = session, admin, VideoRoom(handle, self.keys)

    async def _lost(self) -> None:
        rooms, self.rooms = self.rooms, {}
        for room in rooms.values():
            for peer in list(room.feeds.values()):
                peer.closed = True
                if peer.subscriber is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(peer.subscriber.pc.close(), 5)
            if room.publisher is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(room.publisher.pc.close(), 5)
        for closing in (self.session, self.admin):
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing.close()
        self.session = self.admin = self.rooms_api = None
        if self.on_lost is not None:
            self.on_lost()

    def _set(self, state: SfuState, detail: str) -> None:
        if state != self.state:
            log.info("sfu: %s -> %s %s", self.state.value, state.value, detail)
        self.state, self.detail = state, detail

    async def stop(self) -> None:
        self._stopping = True
        for meeting_id in list(self.rooms):
            await self.close_room(meeting_id)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for closing in (self.session, self.admin):
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing.close()
        if self.process is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.process.stop)

    async def ready(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._ready.is_set()

    # --- rooms ---------------------------------------------------------------------------------------

    async def room(self, meeting_id: str, title: str, tracks: Callable[[], list[MediaStreamTrack]]) -> SfuRoom:
        """The meeting's VideoRoom, created (and the room published into it with ``tracks()``) on first use."""
        async with self._lock:
            if not await self.ready(10.0):
                raise JanusError(
                    "Máy chủ Janus (SFU) chưa sẵn sàng; trang sẽ tự kết nối lại",
                    "The Janus SFU is not available; the page reconnects by itself", state=self.state.value,
                )  # fmt: skip
            room = self.rooms.get(meeting_id)
            if room is not None:
                return room
            assert self.rooms_api is not None and self.session is not None and self.keys is not None
            room = SfuRoom(meeting_id, secrets.randbelow(2**52) + 1, secrets.token_urlsafe(24))
            await self.rooms_api.create(room.id, title, [room.server_token])
            config = rtc_configuration(self.ice_servers)
            publisher = Publisher(self.session, room.id, ROOM_FEED, "room", config, token=room.server_token)
            for track in tracks():
                publisher.add(track)
            publisher.on_publishers = lambda new: self._published(room, new)
            publisher.on_gone = lambda feed: self._unpublished(room, feed)
            await publisher.publish()
            room.publisher = publisher
            self.rooms[meeting_id] = room
            log.info("sfu: meeting %s has Janus room %d", meeting_id, room.id)
            return room

    def _published(self, room: SfuRoom, new: list[dict[str, Any]]) -> None:
        for p in new:
            peer = room.feeds.get(int(p["id"]))
            if peer is not None:
                asyncio.ensure_future(peer.published())

    def _unpublished(self, room: SfuRoom, feed: int) -> None:
        peer = room.feeds.get(feed)
        if peer is not None:
            peer.unpublished()

    async def admit(
        self, room: SfuRoom, member_id: str, on_audio: Callable[[AudioChunk], None], on_state: Callable[[str], None]
    ) -> SfuPeer:
        """A token of their own (Janus's stored tokens and the room's allowed list) and a feed id."""
        assert self.admin is not None and self.rooms_api is not None
        token = secrets.token_urlsafe(24)
        await self.admin.add_token(token)
        await self.rooms_api.allow(room.id, [token])
        peer = SfuPeer(self, room, member_id, token, next(room.feed_ids), on_audio, on_state)
        room.feeds[peer.feed] = peer
        return peer

    async def revoke(self, room: SfuRoom, token: str, feed: int, sessions: set[int]) -> None:
        """No new request with their token, out of the room, and every session of theirs (the
        subscriptions too) destroyed."""
        if self.admin is None or self.rooms_api is None:
            return  # Janus went, its tokens and sessions with it
        with contextlib.suppress(JanusError):
            await self.admin.remove_token(token)
            for session_id in sessions:
                await self.admin.destroy_session(session_id)
            if self.rooms.get(room.meeting_id) is room:
                await self.rooms_api.kick(room.id, feed)
                await self.rooms_api.allow(room.id, [token], add=False)

    async def close_room(self, meeting_id: str) -> None:
        """The meeting ended: every participant revoked, the room's feed unpublished, the room destroyed."""
        room = self.rooms.get(meeting_id)
        if room is None:
            return
        for peer in list(room.feeds.values()):
            await peer.close()
        self.rooms.pop(meeting_id, None)
        if room.publisher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(room.publisher.close(), 5)
        if self.rooms_api is not None:
            await self.rooms_api.destroy(room.id)

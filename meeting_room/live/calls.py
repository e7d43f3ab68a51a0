"""Remote participants' calls: one conference per running meeting, joining the room and everyone
who takes part from elsewhere.

A conference holds the audio mixer (each listener hears everyone but themselves; the room's
loudspeakers play only the remote voices) and the room camera's video. A participant joins by
offering a WebRTC session over the call WebSocket; the server answers with an aiortc peer. Their
voice goes to the mixer and, resampled to 16 kHz, to the live captions under their own name (the
audio is theirs: no guessing by voice). While the peer is connected they count as present online;
when the call ends and they do not come back within ``call_grace_s`` they are recorded as having
left. A reconnect replaces the old peer and keeps everything else (votes, requests to speak, the
attendance record are in the store, not in the call).

A meeting with many participants (``janus_min_participants``, with ``janus`` on) goes through the
Janus SFU instead (``sfu.py``): the participant publishes and subscribes in the meeting's Janus room
with a token the server issued; the server subscribes to their voice (mixer and captions as above)
and publishes the room (its microphones only, ``hears="room"``) and its camera into the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import func, select

from meeting_room.access import Actor, get_meeting, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, MeetingRoomError, NotFoundError
from meeting_room.lifecycle import RUNNING, MeetingState
from meeting_room.live.face_checks import CallFaceCheck, OnlineFaceChecks
from meeting_room.live.live_captions import AudioSource, LiveCaptions
from meeting_room.live.sfu import ROOM_FEED
from meeting_room.services import attendance
from meeting_room.settings import Settings
from meeting_room.store import Store
from webrtc.ice import parse_ice_servers, rtc_configuration
from webrtc.mixer import RATE, Leg, Mixer
from webrtc.peer import RemotePeer
from webrtc.tracks import MixTrack, VideoBroadcast, VideoTrack

if TYPE_CHECKING:
    from aiortc.mediastreams import MediaStreamTrack

    from meeting_room.live.sfu import Sfu, SfuPeer  # noqa: F401 (SfuPeer: in a string annotation)

log = logging.getLogger(__name__)
Notify = Callable[[dict[str, object]], Awaitable[None]]
CAPTION_PIECE_S = 0.1  # a remote voice goes to the live captions 100 ms at a time (adds at most that to their delay)
_DONE: Future[None] = Future()  # what hanging up a call that had ended already waits for
_DONE.set_result(None)


@dataclass
class CallInfo:
    member_id: str
    name: str
    state: str  # new | connecting | connected | disconnected | failed | closed
    since: datetime
    video_in: bool
    muted: bool
    level: float


@dataclass
class Call:
    meeting_id: str
    member_id: str
    name: str
    peer: RemotePeer | SfuPeer
    leg: Leg
    notify: Notify
    state: str = "new"
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended: bool = False
    invited: bool = False  # joined on a session opened from an invitation link
    session: str = ""  # the token hash of the session that made it: only that session may relay to Janus for it
    face_check: CallFaceCheck | None = None  # their own camera checked against their enrolment (face_check_online)
    voice: list[np.ndarray] = field(default_factory=list)  # their audio not yet handed to the live captions
    voice_at: float = 0.0  # wall-clock time of its first sample

    def info(self) -> CallInfo:
        return CallInfo(self.member_id, self.name, self.state, self.since, self.peer.receiving_video, self.leg.muted, self.leg.stats.level)

    def message(self) -> dict[str, object]:
        return {**asdict(self.info()), "since": self.since.isoformat()}


class Conference:
    def __init__(self, meeting_id: str, video: VideoBroadcast, prebuffer_ms: float) -> None:
        self.meeting_id = meeting_id
        self.mixer = Mixer(f"mixer-{meeting_id[:8]}", prebuffer_ms=prebuffer_ms)
        self.video = video
        self.has_camera = False
        self.calls: dict[str, Call] = {}
        self.room_legs: dict[str, Leg] = {}
        self.sfu = False  # its remote side goes through Janus
        self.ended = False  # the meeting ended: a join still under way when it did is refused
        self.mixer.start()


class Calls:
    def __init__(self, store: Store, settings: Settings, captions: LiveCaptions, sfu: Sfu | None = None) -> None:
        self.store, self.settings, self.captions, self.sfu = store, settings, captions, sfu
        self.ice_servers = parse_ice_servers(settings.ice_servers)
        self._conferences: dict[str, Conference] = {}
        self._lock = threading.Lock()
        self._grace: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._closed = False  # the server is shutting down: no grace timers, no new work for its executor
        self.face_checks = OnlineFaceChecks(store, settings)
        # rooms this server runs with a camera: a participant who joins before the room has gone
        # live still gets its video (else a Janus room published first would have none, for good)
        self.camera_rooms: frozenset[str] = frozenset()

    def conference(self, meeting_id: str) -> Conference:
        with self._lock:
            conf = self._conferences.get(meeting_id)
            if conf is None:
                s = self.settings
                video = VideoBroadcast(s.call_video_width, s.call_video_height, s.call_video_fps)
                conf = Conference(meeting_id, video, s.call_prebuffer_ms)
                self._conferences[meeting_id] = conf
            return conf

    def participant_count(self) -> int:
        with self._lock:
            return sum(len(conf.calls) for conf in self._conferences.values())

    def status(self, meeting_id: str) -> list[CallInfo]:
        conf = self._conferences.get(meeting_id)
        return [c.info() for c in conf.calls.values()] if conf else []

    def browser_ice_servers(self) -> list[dict[str, object]]:
        return [s.browser() for s in self.ice_servers]

    # --- the room (its threads) ----------------------------------------------------------------------

    def room_joined(self, meeting_id: str, inputs: list[str], loudspeaker: Callable[[np.ndarray, float], None] | None) -> None:
        """The room's inputs become sources of the conference; its loudspeakers hear the remote voices."""
        conf = self.conference(meeting_id)
        for name in inputs:
            conf.room_legs[name] = conf.mixer.add(f"room:{name}", group="room")
        if loudspeaker is not None:
            conf.mixer.add("room:loudspeakers", loudspeaker, group="room")

    def room_audio(self, meeting_id: str, name: str, samples: np.ndarray, wall: float) -> None:
        """Mono float32 at 48 kHz from room input ``name``; ``wall``: when its first sample was captured."""
        conf = self._conferences.get(meeting_id)
        leg = conf.room_legs.get(name) if conf else None
        if leg is not None:
            leg.push(samples)

    def room_video(self, meeting_id: str, rgb: np.ndarray) -> None:
        conf = self._conferences.get(meeting_id)
        if conf is not None and conf.calls:  # nobody remote: no conversion at all
            conf.video.publish(rgb)

    def room_camera(self, meeting_id: str) -> None:
        """The room has a camera: offer its video to participants who join."""
        self.conference(meeting_id).has_camera = True

    def room_left(self, meeting_id: str) -> None:
        conf = self._conferences.get(meeting_id)
        if conf is None:
            return
        for leg in conf.mixer.legs():
            if leg.group == "room":
                conf.mixer.remove(leg.key, leg)
        conf.room_legs.clear()

    # --- remote participants (the event loop) ---------------------------------------------------------

    async def join(self, actor: Actor, meeting_id: str, sdp: str, notify: Notify) -> tuple[Call, str]:
        """Answer a participant's offer; an earlier call of theirs (a reconnect) is replaced."""
        name, conf = await self._prepare(actor, meeting_id)
        key = f"member:{actor.member_id}"
        holder: dict[str, Call] = {}
        face_check = None
        try:
            face_check = await asyncio.get_running_loop().run_in_executor(None, self.face_checks.watch, meeting_id, actor.member_id)
        except Exception:  # a face check that cannot start must not keep anyone out of the meeting
            log.exception("call %s: face check of member %s off", meeting_id, actor.member_id)
        peer = RemotePeer(
            key,
            rtc_configuration(self.ice_servers),
            on_audio=lambda chunk: self._heard(holder["call"], chunk.samples, chunk.start),
            on_video=face_check.on_frame if face_check is not None else None,
            on_state=lambda state: self._state(holder["call"], state),
        )
        leg = conf.mixer.add(key)
        call = holder["call"] = Call(meeting_id, actor.member_id, name, peer, leg, notify, invited=actor.only_meeting is not None)
        call.face_check = face_check
        conf.calls[actor.member_id] = call
        await self._refuse_if_ended(conf, call)
        try:
            answer = await peer.answer(sdp, conf.video if conf.has_camera else None)
        except BaseException:
            await self.hang_up(call, "failed", grace=False, tell=False)
            raise
        assert peer.audio_out is not None
        leg.packets = peer.audio_out.sink
        log.info("call %s: member %s joined", meeting_id, actor.member_id)
        self._announce(meeting_id)
        return call, answer

    async def _prepare(self, actor: Actor, meeting_id: str) -> tuple[str, Conference]:
        """Their name; captions running; an earlier call of theirs ended (a reconnect)."""
        loop = asyncio.get_running_loop()
        name = await loop.run_in_executor(None, self.check, actor, meeting_id)
        if self.captions.active(meeting_id) is None:
            try:
                await loop.run_in_executor(None, self.captions.start, None, meeting_id)
            except Exception as exc:  # a missing model must not keep anyone out of the meeting
                log.error("call %s: live captions off: %s", meeting_id, getattr(exc, "message_en", exc))
        conf = self.conference(meeting_id)
        try:  # the meeting may have closed while the captions started, when it had no conference to end yet
            await loop.run_in_executor(None, self.check, actor, meeting_id)
        except ConflictError:  # no longer running: the conference made just now goes with it (its mixer runs)
            await self.end_meeting(meeting_id)
            raise
        if not conf.has_camera and self.camera_rooms and await loop.run_in_executor(None, self._in_camera_room, meeting_id):
            conf.has_camera = True
        old = conf.calls.get(actor.member_id)
        if old is not None:  # their new call's captions start after the old one's last words
            await asyncio.wrap_future(await self.hang_up(old, "replaced", grace=False))
        self._cancel_grace(meeting_id, actor.member_id)
        return name, conf

    async def _refuse_if_ended(self, conf: Conference, call: Call) -> None:
        """A join that was under way (its checks passed, then a wait) when the meeting ended: its
        conference's mixer has stopped and nobody would end the call, so it ends here, refused."""
        if not conf.ended:
            return
        await self.hang_up(call, "meeting_ended", grace=False, tell=False, conf=conf)  # (no longer the meeting's conference)
        if conf.sfu and self.sfu is not None:  # its Janus room, made while the meeting closed, goes too
            await self.sfu.close_room(conf.meeting_id)
        raise ConflictError(
            "Cuộc họp vừa kết thúc trong lúc bạn đang vào: không còn tham gia trực tuyến được",
            "The meeting ended while you were joining: there is no call to join any more",
            meeting_id=conf.meeting_id,
        )

    def _in_camera_room(self, meeting_id: str) -> bool:
        with self.store.read() as session:
            meeting = session.get(t.Meeting, meeting_id)
            return meeting is not None and meeting.room_id in self.camera_rooms

    # --- through Janus ------------------------------------------------------------------------------------

    def uses_sfu(self, meeting_id: str) -> bool:
        """Whether this meeting's remote side goes through Janus: it is on and the meeting is large
        (decided once per conference: calls never move between the two paths)."""
        if self.sfu is None:
            return False
        conf = self._conferences.get(meeting_id)
        if conf is not None and (conf.sfu or conf.calls):
            return conf.sfu
        with self.store.read() as session:
            n = session.scalar(select(func.count()).select_from(t.Participant).where(t.Participant.meeting_id == meeting_id)) or 0
        return n >= self.settings.janus_min_participants

    async def join_sfu(self, actor: Actor, meeting_id: str, notify: Notify, *, session: str) -> tuple[Call, dict[str, object]]:
        """Admit a participant to the meeting's Janus room: what their client needs to publish and subscribe."""
        sfu = self.sfu
        assert sfu is not None
        name, conf = await self._prepare(actor, meeting_id)
        conf.sfu = True
        room = await sfu.room(meeting_id, f"meeting {meeting_id[:8]}", lambda: self._room_tracks(conf))
        key = f"member:{actor.member_id}"
        holder: dict[str, Call] = {}
        peer = await sfu.admit(
            room, actor.member_id,
            on_audio=lambda chunk: self._heard(holder["call"], chunk.samples, chunk.start),
            on_state=lambda state: self._state(holder["call"], state),
        )  # fmt: skip
        leg = conf.mixer.add(key)  # a source only: they hear the room and each other through Janus
        call = holder["call"] = Call(
            meeting_id, actor.member_id, name, peer, leg, notify, invited=actor.only_meeting is not None, session=session
        )
        conf.calls[actor.member_id] = call
        await self._refuse_if_ended(conf, call)
        log.info("call %s: member %s admitted to Janus room %d as feed %d", meeting_id, actor.member_id, room.id, peer.feed)
        self._announce(meeting_id)
        return call, {"room": room.id, "feed": peer.feed, "token": peer.token, "room_feed": ROOM_FEED, "display": name}

    def _room_tracks(self, conf: Conference) -> list[MediaStreamTrack]:
        """What the room publishes into Janus: its microphones' mix (nobody remote in it) and its camera."""
        mix = MixTrack(asyncio.get_running_loop())
        conf.mixer.add("sfu:room", group="sfu", hears="room", packets=mix.sink)
        tracks: list[MediaStreamTrack] = [mix]
        if conf.has_camera:
            tracks.append(VideoTrack(conf.video))
        return tracks

    def sfu_call(self, meeting_id: str, member_id: str, session: str) -> Call | None:
        """The member's call through Janus, for the session that made it only: a member's invitation link
        in other hands (or another login of theirs) is not a way into their call's feeds."""
        conf = self._conferences.get(meeting_id)
        call = conf.calls.get(member_id) if conf else None
        if call is None or conf is None or not conf.sfu or call.ended or not call.session:
            return None
        return call if hmac.compare_digest(call.session, session) else None

    def sfu_lost(self) -> None:
        """Janus went away: every call through it ends (kept present for the grace period); pages reconnect."""
        for conf in list(self._conferences.values()):
            if conf.sfu:
                conf.mixer.remove("sfu:room")
                conf.sfu = False  # decided again when they come back
                for call in list(conf.calls.values()):
                    asyncio.ensure_future(self.hang_up(call, "sfu_lost"))

    def mute(self, call: Call, muted: bool) -> None:
        """The participant's own microphone switch."""
        self._caption_voice(call)  # what they said before it
        call.leg.muted = muted
        self._announce(call.meeting_id)

    async def mute_member(self, actor: Actor, meeting_id: str, member_id: str, muted: bool) -> CallInfo:
        """The chair (or secretary) switches a remote participant's microphone: the server stops
        mixing and captioning their voice; they are told, and may switch it back on themselves."""
        await asyncio.get_running_loop().run_in_executor(None, self._require_staff, actor, meeting_id)
        conf = self._conferences.get(meeting_id)
        call = conf.calls.get(member_id) if conf else None
        if call is None or call.ended:
            raise NotFoundError(
                "Người này hiện không tham gia trực tuyến", "This member is not on the call now", meeting_id=meeting_id, member_id=member_id
            )
        self._caption_voice(call)
        call.leg.muted = muted
        await self._tell(call, {"type": "muted", "muted": muted, "by": actor.full_name})
        self._announce(meeting_id)
        return call.info()

    async def hang_up(self, call: Call, reason: str, grace: bool = True, tell: bool = True, conf: Conference | None = None) -> Future[None]:
        """End a call. ``reason="left"`` or ``"session_ended"`` (logged out, disabled, link revoked): they
        left (recorded now). Otherwise, with ``grace``,
        they count as online until ``call_grace_s`` passes without a new call (a dropped connection
        that comes back is not a departure). ``conf``: the call's conference, given when it is no
        longer the meeting's (a meeting that has just ended).

        In this order: nothing more of theirs is mixed or captioned, the departure is recorded, the
        connection closes (a bounded wait), they are told; then their last words' captions are
        finished on a thread of their own, which can take long on a busy server: the returned
        future says when. Neither the socket nor a server shutdown waits for it here (the live
        captions' own stop does), and it holds no thread of the event loop's executor, which
        aiortc needs to encode every participant's audio."""
        if call.ended:
            return _DONE
        call.ended = True
        self._caption_voice(call)
        if call.face_check is not None:
            call.face_check.stop()
        conf = self._conferences.get(call.meeting_id) if conf is None else conf
        if conf is not None:
            conf.mixer.remove(call.leg.key, call.leg)
            if conf.calls.get(call.member_id) is call:
                del conf.calls[call.member_id]
        log.info("call %s: member %s ended (%s)", call.meeting_id, call.member_id, reason)
        self._announce(call.meeting_id)
        loop = asyncio.get_running_loop()
        if reason in ("left", "session_ended"):  # they left on purpose, or their session ended: recorded at once
            await loop.run_in_executor(None, self._online, call.meeting_id, call.member_id, False)
        elif grace and not self._closed:
            handle = loop.call_later(self.settings.call_grace_s, self._left, call.meeting_id, call.member_id)
            self._grace[(call.meeting_id, call.member_id)] = handle
        await call.peer.close()
        if tell:
            await self._tell(call, {"type": "ended", "reason": reason})
        return self._end_captions(call)

    def _end_captions(self, call: Call) -> Future[None]:
        done: Future[None] = Future()

        def finish() -> None:
            try:
                self.captions.end_source(call.meeting_id, _voice(call.member_id))
            except Exception:
                log.exception("call %s: finishing the captions of member %s", call.meeting_id, call.member_id)
            finally:
                done.set_result(None)

        threading.Thread(target=finish, name=f"call-end-{call.member_id[:8]}", daemon=True).start()
        return done

    async def end_meeting(self, meeting_id: str) -> None:
        """The meeting closed or was cancelled: every call ends, the conference goes."""
        conf = self._conferences.get(meeting_id)
        if conf is None:
            return
        conf.ended = True
        for call in list(conf.calls.values()):
            await self.hang_up(call, "meeting_ended", grace=False)
        if self.sfu is not None:
            await self.sfu.close_room(meeting_id)
        with self._lock:  # (a newer conference of the meeting, made meanwhile, stays)
            if self._conferences.get(meeting_id) is conf:
                del self._conferences[meeting_id]
        conf.mixer.stop()

    async def close_all(self) -> None:
        """Server shutdown (before the event loop's executor stops): no grace period runs out later,
        every call ends, every mixer stops."""
        self._closed = True
        for handle in self._grace.values():
            handle.cancel()
        self._grace.clear()
        for meeting_id in list(self._conferences):
            await self.end_meeting(meeting_id)
        await asyncio.get_running_loop().run_in_executor(None, self.face_checks.close)

    # --- inside -----------------------------------------------------------------------------------------

    def check(self, actor: Actor, meeting_id: str) -> str:
        """The participant's name, or why they cannot join (not a participant, meeting not running)."""
        with self.store.read() as session:
            meeting = get_meeting(session, meeting_id)
            if session.get(t.Participant, (meeting_id, actor.member_id)) is None:
                raise NotFoundError(
                    "Bạn không có trong danh sách dự cuộc họp này", "You are not a participant of this meeting", meeting_id=meeting_id
                )
            if MeetingState(meeting.state) not in RUNNING:
                raise ConflictError(
                    f"Cuộc họp đang ở trạng thái “{MeetingState(meeting.state).label_vi}”: "
                    "chỉ tham gia trực tuyến được khi cuộc họp đã khai mạc",
                    f"The meeting is {meeting.state}: you can join online once it is open",
                    state=meeting.state, accepted=sorted(s.value for s in RUNNING),
                )  # fmt: skip
            member = session.get_one(t.Member, actor.member_id)
            return member.full_name

    def _require_staff(self, actor: Actor, meeting_id: str) -> None:
        with self.store.read() as session:
            meeting = get_meeting(session, meeting_id)
            require_staff(session, actor, meeting, action_vi="tắt/bật micrô của người tham gia", action_en="mute a participant")

    def _announce(self, meeting_id: str) -> None:
        """Who is on the call now, to every page following the meeting (not stored: calls are not
        meeting records; attendance is, through its own events)."""
        conf = self._conferences.get(meeting_id)
        calls = [c.message() for c in conf.calls.values() if not c.ended] if conf else []
        self.store.bus.publish_transient(meeting_id, {"kind": "calls", "calls": calls})

    def _heard(self, call: Call, samples: np.ndarray, wall: float) -> None:
        """A participant's voice (on the event loop): into the mixer, and in pieces of
        ``CAPTION_PIECE_S`` into the live captions (one 20 ms packet each would wake their caption
        thread 50 times a second: with many participants, the threads' turns at Python's one lock
        starve the mixer)."""
        if call.ended:
            return
        call.leg.push(samples)
        if call.leg.muted or self.captions.active(call.meeting_id) is None:
            self._caption_voice(call)  # what they said before the switch
            return
        if not call.voice:
            call.voice_at = wall
        call.voice.append(samples)
        if sum(len(v) for v in call.voice) >= CAPTION_PIECE_S * RATE:
            self._caption_voice(call)

    def _caption_voice(self, call: Call) -> None:
        if not call.voice:
            return
        samples, call.voice = np.concatenate(call.voice), []
        with contextlib.suppress(MeetingRoomError):  # captions stopped meanwhile
            self.captions.feed(call.meeting_id, _voice(call.member_id), samples, RATE, call.voice_at)

    def _state(self, call: Call, state: str) -> None:
        call.state, call.since = state, datetime.now(UTC)
        if not call.ended:
            self._announce(call.meeting_id)
        loop = asyncio.get_running_loop()
        if state == "connected" and not call.ended:  # hung up while connecting: not present
            loop.run_in_executor(None, self._online, call.meeting_id, call.member_id, True)
        if not call.ended:
            loop.create_task(self._tell(call, {"type": "state", "state": state}))
        if state in ("failed", "closed") and not call.ended:
            loop.create_task(self.hang_up(call, state))

    async def _tell(self, call: Call, message: dict[str, object]) -> None:
        with contextlib.suppress(Exception):
            await call.notify(message)

    def _online(self, meeting_id: str, member_id: str, connected: bool) -> None:
        try:
            attendance.record_online(self.store, meeting_id, member_id, connected)
        except Exception:
            log.exception("call %s: attendance of %s", meeting_id, member_id)

    def _cancel_grace(self, meeting_id: str, member_id: str) -> None:
        handle = self._grace.pop((meeting_id, member_id), None)
        if handle is not None:
            handle.cancel()

    def _left(self, meeting_id: str, member_id: str) -> None:
        self._grace.pop((meeting_id, member_id), None)
        conf = self._conferences.get(meeting_id)
        if self._closed or (conf is not None and member_id in conf.calls):
            return  # shutting down (the timer was cancelled as it fired), or back already
        asyncio.get_running_loop().run_in_executor(None, self._online, meeting_id, member_id, False)


def _voice(member_id: str) -> AudioSource:
    """A remote participant's voice: theirs, no guessing by voiceprint."""
    return AudioSource("remote", member_id=member_id)

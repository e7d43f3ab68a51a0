"""A room run live: its microphones and cameras captured from the moment the server starts, and,
while a meeting of that room is open, the audio recorded to disk, transcribed into captions with
the seat's member as speaker, and the cameras taking attendance.

One ``RoomRunner`` per room configuration. Capture threads feed bounded buffers; a dispatcher per
input hands each block to the recorder (encoding on its own thread) and to the live captions (their
own workers and queues): nothing here runs on the event loop or waits on a model. Which meeting is
live is decided from the database whenever a meeting event arrives (``poke``) and every few seconds,
so a meeting opened by another process or before a restart is picked up. When the meeting closes,
the recording segments are joined into one FLAC file per input and registered with the meeting.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from hardware.camera import Camera
from hardware.config import RoomConfig
from hardware.errors import HardwareError
from hardware.loudspeaker import Loudspeaker
from hardware.media import Frame
from hardware.microphone import DeviceState, Microphone, open_microphone
from hardware.recorder import SegmentRecorder, assemble, segments
from hardware.resample import Resampler
from meeting_room import events as ev
from meeting_room.access import get_meeting
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, MeetingRoomError, NotFoundError
from meeting_room.files.recordings import RecordingFiles
from meeting_room.lifecycle import RUNNING, MeetingState
from meeting_room.live.calls import Calls
from meeting_room.live.live_captions import SHUTDOWN_WAIT_S, AudioSource, LiveCaptions
from meeting_room.reads.meeting_seats import seating
from meeting_room.services import recordings, transcripts
from meeting_room.settings import Settings
from meeting_room.store import Store

if TYPE_CHECKING:  # face recognition loads only where a room has cameras
    from meeting_room.services.face_attendance import CameraWatcher
    from vision.pool import FacePool
from webrtc.mixer import RATE

log = logging.getLogger(__name__)
SYNC_EVERY_S = 5.0


@dataclass
class DeviceStatus:
    name: str
    kind: str  # microphone | camera
    state: str
    detail: str
    since: datetime
    url: str = ""


@dataclass
class _Live:
    meeting_id: str
    folder: Path
    t0: float  # wall-clock time of the recording's first sample: second 0 of the meeting's audio
    recorders: dict[str, SegmentRecorder] = field(default_factory=dict)
    to_remote: dict[str, Resampler] = field(default_factory=dict)  # each input's mix at 48 kHz for the conference
    captions: bool = False
    seated: dict[int, str] = field(default_factory=dict)  # the captions' channel -> member id
    watchers: list[tuple[CameraWatcher, threading.Thread]] = field(default_factory=list)


class RoomRunner:
    def __init__(
        self, store: Store, settings: Settings, config: RoomConfig, captions: LiveCaptions, files: RecordingFiles, *,
        speed: float = 1.0, faces: bool = True, live_captions: bool = True, calls: Calls | None = None,
    ) -> None:  # fmt: skip
        self.store, self.settings, self.config, self.captions, self.files = store, settings, config, captions, files
        self.calls = calls
        self.speed, self.faces_on, self.captions_on = speed, faces, live_captions
        with store.read() as session:
            room = session.get(t.Room, config.room) or session.scalar(select(t.Room).where(t.Room.name == config.room))
            if room is None:
                names = ", ".join(session.scalars(select(t.Room.name))) or "—"
                raise NotFoundError(
                    f"Không có phòng “{config.room}” trên máy chủ (cấu hình {config.source}). Có: {names}",
                    f"No room “{config.room}” on the server (configuration {config.source}). There are: {names}", room=config.room,
                )  # fmt: skip
            self.room_id, self.room_name = room.id, room.name
        # seats' channels numbered across inputs: input k's channel c is base[k] + c
        self.base: dict[str, int] = {}
        n = 0
        for mic in config.microphones:
            self.base[mic.name] = n
            n += mic.channels
        self._status: dict[str, DeviceStatus] = {}
        self._mics: list[Microphone] = []
        self._cameras: list[Camera] = []
        self._speaker: Loudspeaker | None = None
        self._live: _Live | None = None
        self._lock = threading.RLock()
        self._poked = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: FacePool | None = None

    # --- life -------------------------------------------------------------------------------------

    def start(self) -> None:
        for mc in self.config.microphones:
            self._status[mc.name] = DeviceStatus(mc.name, "microphone", DeviceState.STARTING.value, "", _now(), str(mc.file or mc.device))
            mic = open_microphone(mc, self._on_state("microphone"), speed=self.speed)
            self._mics.append(mic)
            mic.start()
            self._spawn(f"room-dispatch-{mc.name}", self._dispatch, mic)
        for cc in self.config.cameras:
            self._status[cc.name] = DeviceStatus(cc.name, "camera", DeviceState.STARTING.value, "", _now(), cc.url)
            cam = Camera(cc, self._on_state("camera"))
            if not self._cameras:  # the first camera is the one remote participants see
                cam.on_frame = self._to_remote
            self._cameras.append(cam)
            cam.start()
        if self.config.loudspeakers is not None and self.calls is not None:
            name = "loa / loudspeakers"
            self._status[name] = DeviceStatus(name, "loudspeaker", DeviceState.STARTING.value, "", _now(), str(self.config.loudspeakers))
            self._speaker = Loudspeaker(self.config.loudspeakers, self._on_state("loudspeaker"), name=name)
            self._speaker.start()
        self._spawn("room-supervisor", self._supervise)
        log.info("room %s: %d microphone input(s), %d camera(s)", self.room_name, len(self._mics), len(self._cameras))

    def stop(self) -> None:
        """Server shutdown: what was recorded is flushed to disk; a meeting still open is resumed at
        the next start (its recording is assembled when it closes)."""
        self._stop.set()
        self._poked.set()
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            self._finish(live, closed=False)
        for mic in self._mics:
            mic.stop()
        for cam in self._cameras:
            cam.stop()
        if self._speaker is not None:
            self._speaker.stop()
        for th in self._threads:
            th.join(timeout=10)
        with self._lock:  # a meeting going live meanwhile makes no new pool (see _watch_cameras)
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def poke(self) -> None:
        """Thread-safe: a meeting changed; look again at which meeting is live."""
        self._poked.set()

    def status(self) -> list[DeviceStatus]:
        return list(self._status.values())

    @property
    def live_meeting(self) -> str | None:
        live = self._live
        return live.meeting_id if live else None

    def _spawn(self, name: str, target: Callable[..., None], *args: object) -> None:
        th = threading.Thread(target=target, args=args, name=name, daemon=True)
        th.start()
        self._threads.append(th)

    # --- which meeting is live ---------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                self._sync()
            except Exception:
                log.exception("room %s: choosing the live meeting failed", self.room_name)
            self._poked.wait(SYNC_EVERY_S)
            self._poked.clear()

    def _sync(self) -> None:
        with self.store.read() as session:
            rows = session.execute(
                select(t.Meeting.id, t.Meeting.state).where(t.Meeting.room_id == self.room_id).order_by(t.Meeting.starts_at)
            ).all()
        states = {mid: MeetingState(state) for mid, state in rows}
        want = next((mid for mid, state in states.items() if state in RUNNING), None)
        current = self._live.meeting_id if self._live else None
        if want == current and self._live is not None and self._live.captions:
            self._reseat(self._live)
        if want == current or self._stop.is_set():
            return
        if current is not None:
            with self._lock:
                live, self._live = self._live, None
            assert live is not None
            self._finish(live, closed=states.get(current) in (MeetingState.CLOSED, MeetingState.CANCELLED))
        if want is not None:
            self._begin(want)

    def _begin(self, meeting_id: str) -> None:
        folder = self.settings.room_audio_dir / meeting_id
        earlier = [s for mic in self.config.microphones for s in segments(folder, mic.name)] if folder.is_dir() else []
        t0 = min((s.wall for s in earlier), default=time.time())
        live = _Live(meeting_id, folder, t0)
        if self.config.recording.enabled:
            for mc in self.config.microphones:
                live.recorders[mc.name] = SegmentRecorder(folder, mc.name, mc.channels, mc.sample_rate, self.config.recording.segment_s)
        self._end_stale_live_passes(meeting_id)
        if self.captions_on and self.config.microphones:
            try:
                live.seated = self._channel_members(meeting_id)
                self.captions.start(None, meeting_id, live.seated, origin=t0)
                live.captions = True
            except (MeetingRoomError, HardwareError) as exc:
                log.error("room %s: live captions off: %s", self.room_name, getattr(exc, "message_en", exc))
            except Exception:  # a missing model must not stop the recording
                log.exception("room %s: live captions off", self.room_name)
        if self.faces_on and self._cameras:
            self._watch_cameras(live)
        if self.calls is not None:  # remote participants hear the room, the loudspeakers play them
            self.calls.room_joined(meeting_id, [m.name for m in self.config.microphones], self._speaker.play if self._speaker else None)
            if self._cameras:
                self.calls.room_camera(meeting_id)
        with self._lock:
            stopping = self._stop.is_set()
            if not stopping:
                self._live = live
        if stopping:  # the server stopped while this meeting went live, after stop() looked for it
            self._finish(live, closed=False)
            return
        for status in self._status.values():  # the chair learns of a device that is already down
            if status.state == DeviceState.LOST.value:
                self._record_device(live.meeting_id, status)
        log.info("room %s: meeting %s is live (recording to %s%s)", self.room_name, meeting_id, folder, ", resumed" if earlier else "")

    def _finish(self, live: _Live, closed: bool) -> None:
        if self.calls is not None:
            self.calls.room_left(live.meeting_id)
        for watcher, _thread in live.watchers:
            watcher.stop()
        for _watcher, thread in live.watchers:
            thread.join(timeout=30)
        if live.captions:
            try:
                # a closed meeting's captions are finished; on shutdown the backlog goes to the final pass
                self.captions.stop(None, live.meeting_id, backlog=closed, wait_s=120 if closed else SHUTDOWN_WAIT_S)
            except Exception:
                log.exception("room %s: closing live captions", self.room_name)
        for rec in live.recorders.values():
            rec.close()
        if closed:
            self._archive(live)

    def _archive(self, live: _Live) -> None:
        """The meeting closed: each input's segments become one recording of the meeting."""
        for mc in self.config.microphones:
            if not segments(live.folder, mc.name):
                continue
            out = live.folder / f"{mc.name}.flac"
            try:
                joined = assemble(live.folder, mc.name, out, start_wall=live.t0)
                with out.open("rb") as f:
                    stored = self.files.ingest(f, uploaded=False)
                name = f"{self.room_name}-{mc.name}.flac"
                recordings.add_recording(self.store, self.files, None, live.meeting_id, stored, name)
                log.info("room %s: recording %s: %.0f s, gaps %s", self.room_name, name, joined.duration_s, list(joined.gaps) or "none")
            except Exception:  # the segments stay on disk for `meeting-room` to retry; nothing is deleted
                log.exception("room %s: assembling the recording of %s failed; segments kept in %s", self.room_name, mc.name, live.folder)
                return
        shutil.rmtree(live.folder, ignore_errors=True)

    def _end_stale_live_passes(self, meeting_id: str) -> None:
        """A live pass left running by a crash is closed, so that the new one is the meeting's draft."""
        if self.captions.active(meeting_id):
            return
        with self.store.read() as session:
            stale = session.scalars(
                select(t.TranscriptPass.id).where(
                    t.TranscriptPass.meeting_id == meeting_id, t.TranscriptPass.kind == "live", t.TranscriptPass.state == "running"
                )
            ).all()
        for pass_id in stale:
            transcripts.end_pass(self.store, meeting_id, pass_id, "failed", error="máy chủ khởi động lại / the server restarted")

    def _channel_members(self, meeting_id: str) -> dict[int, str]:
        """Each seat microphone's channel -> who sits there in this meeting: the meeting's seating
        (a seat of the room with the same label) when it names someone, else the configuration's member."""
        with self.store.read() as session:
            participants = set(session.scalars(select(t.Participant.member_id).where(t.Participant.meeting_id == meeting_id)))
            places = {p.label: p for p in seating(session, get_meeting(session, meeting_id))}
            seated = {p.member_id for p in places.values() if p.member_id is not None}  # one seat per person
            out: dict[int, str] = {}
            for seat in self.config.seats:
                place = places.get(seat.label)
                if place is not None and (place.overridden or place.usual_member_id is not None):
                    if place.member_id is not None:  # an empty seat (or an absent usual occupant) names nobody
                        out[self.base[seat.microphone] + seat.channel] = place.member_id
                    continue
                if seat.member is None:
                    continue
                member = session.get(t.Member, seat.member) or session.scalar(select(t.Member).where(t.Member.username == seat.member))
                if member is None or member.id not in participants:
                    log.warning("room %s: seat %s: %s is not a participant of this meeting", self.room_name, seat.label, seat.member)
                    continue
                if member.id in seated:  # seated elsewhere for this meeting
                    continue
                out[self.base[seat.microphone] + seat.channel] = member.id
        return out

    def _reseat(self, live: _Live) -> None:
        """Someone was seated (or left a seat) during the meeting: the seat's microphone names them from now on."""
        seated = self._channel_members(live.meeting_id)
        if seated != live.seated:
            self.captions.seat(live.meeting_id, seated)
            live.seated = seated

    # --- audio ------------------------------------------------------------------------------------

    def _dispatch(self, mic: Microphone) -> None:
        mc = mic.config
        seats = self.config.seat_map(mc.name)
        for block in mic.blocks():
            if self._stop.is_set():
                return
            with self._lock:
                live = self._live
                if live is None:
                    continue
                rec = live.recorders.get(mc.name)
                if rec is not None:
                    try:
                        rec.write(block)
                    except HardwareError as exc:
                        log.error("room %s: %s", self.room_name, exc.message_en)
                if live.captions:
                    self._caption(live, mc.name, block.samples, block.start, block.sample_rate, seats)
                if self.calls is not None:
                    rs = live.to_remote.setdefault(mc.name, Resampler(block.sample_rate, RATE))
                    self.calls.room_audio(live.meeting_id, mc.name, rs(block.samples.mean(axis=1)), block.start)

    def _caption(self, live: _Live, name: str, samples: np.ndarray, wall: float, rate: int, seats: Mapping[int, object]) -> None:
        try:
            if seats:  # one seat per channel: each is its own caption stream, its member the speaker
                for ch in seats:
                    self.captions.feed(live.meeting_id, AudioSource(name, self.base[name] + ch), samples[:, ch], rate, wall)
            else:  # a room mix: one stream, speakers told apart by voice
                self.captions.feed(live.meeting_id, AudioSource(name), samples.mean(axis=1), rate, wall)
        except ConflictError:  # the chair stopped the captions: the recording goes on
            live.captions = False

    # --- cameras ------------------------------------------------------------------------------------

    def _to_remote(self, frame: Frame) -> None:
        live = self._live
        if live is not None and self.calls is not None:
            self.calls.room_video(live.meeting_id, frame.image)

    def _watch_cameras(self, live: _Live) -> None:
        from meeting_room.live.face_runtime import face_pool, match_options, presence_tracker
        from meeting_room.services.face_attendance import CameraWatcher

        s = self.settings
        broken = None
        with self._lock:  # stop() takes the pool under the same lock: it closes this one, or none is made
            if self._stop.is_set():
                return
            if self._pool is not None and self._pool.broken:  # the last meeting's workers died or could not load: tried afresh
                broken, self._pool = self._pool, None
            if self._pool is None:
                self._pool = face_pool(s)
                # not waited for: under SCHED_IDLE on a busy machine (another room's captions, calls) the
                # workers can take long to load, and the room's recording must not wait for its cameras
                self._pool.warm_up(wait=False)
            pool = self._pool
        if broken is not None:
            broken.close()
        unknown_dir = s.data_dir / "unknown_faces" if s.store_unknown_faces else None
        for cam in self._cameras:
            watcher = CameraWatcher(
                self.store, live.meeting_id, cam.name, pool, match_options(s), presence_tracker(s), sample_fps=s.face_sample_fps,
                unknown_dir=unknown_dir,
            )  # fmt: skip
            thread = threading.Thread(
                target=watcher.run, args=(cam.frames(until=_stopped(watcher)),), name=f"room-faces-{cam.name}", daemon=True
            )
            thread.start()
            live.watchers.append((watcher, thread))

    # --- device states --------------------------------------------------------------------------------

    def _on_state(self, kind: str) -> Callable[[str, DeviceState, str], None]:
        def changed(name: str, state: DeviceState, detail: str) -> None:
            status = self._status.get(name)
            if status is None:
                return
            status.state, status.detail, status.since = state.value, detail, _now()
            live = self._live
            if live is not None and state in (DeviceState.CONNECTED, DeviceState.LOST):
                self._record_device(live.meeting_id, status)

        return changed

    def _record_device(self, meeting_id: str, status: DeviceStatus) -> None:
        def decide(session: Session) -> list[ev.EventPayload]:
            meeting = session.get_one(t.Meeting, meeting_id)
            known = (meeting.devices or {}).get(status.name)
            if known is None and status.state == DeviceState.CONNECTED.value:
                return []  # a device that works from the start is not news
            if known is not None and known.get("state") == status.state:
                return []
            return [ev.RoomDeviceChanged(meeting_id=meeting_id, device=status.name, kind=status.kind, state=status.state,
                                         detail=status.detail[:1000] or None)]  # fmt: skip

        try:
            self.store.append_all(decide)
        except Exception:
            log.exception("room %s: recording the state of %s", self.room_name, status.name)


def _now() -> datetime:
    return datetime.now(UTC)


def _stopped(watcher: CameraWatcher) -> Callable[[], bool]:
    return lambda: watcher.stopped

"""What one server process holds and runs while it serves: the settings and store, the file stores,
and the live work (rooms, live captions, calls, transcription passes, open sessions, the poll timer,
scheduled backups). The CLI builds it, the app keeps it as its one state, and the app's lifespan
starts and stops it, in the one order written here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from hardware.config import load_room_config
from meeting_room import notify
from meeting_room.auth import LoginThrottle
from meeting_room.bus import SubscriberOverflow
from meeting_room.chain import StoredEvent
from meeting_room.files.documents import DocumentFiles
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.files.recordings import RecordingFiles
from meeting_room.live import speech_runtime
from meeting_room.live.calls import Calls
from meeting_room.live.face_import_jobs import FaceImportJobs
from meeting_room.live.face_runtime import SharedFaceEngine
from meeting_room.live.live_captions import LiveCaptions
from meeting_room.live.live_sessions import LiveSessions
from meeting_room.live.mailer import Mailer
from meeting_room.live.poll_timer import PollTimer
from meeting_room.live.room_runner import RoomRunner
from meeting_room.live.session_reader import SessionReader
from meeting_room.live.sfu import Sfu, SfuState
from meeting_room.live.transcription import TranscriptionJobs
from meeting_room.operations.backup import Backups
from meeting_room.operations.clock import clock_status
from meeting_room.operations.health import Surroundings
from meeting_room.operations.metrics import Readings, RuntimeCollector, watch_loop_lag
from meeting_room.settings import Settings
from meeting_room.store import Store
from transcripts.archive import ArchiveChecks
from webrtc.ice import include_loopback, parse_ice_servers
from webrtc.janus import JanusOptions
from webrtc.mixer import FRAMES_SKIPPED
from webrtc.tracks import FRAMES_DROPPED

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Runtime:
    settings: Settings
    store: Store
    documents: DocumentFiles
    recordings: RecordingFiles
    minutes_files: MinutesFiles
    transcription: TranscriptionJobs
    captions: LiveCaptions
    calls: Calls
    live: LiveSessions  # open WebSockets by login session: they close when it ends
    rooms: list[RoomRunner]  # the rooms this server runs (the ``rooms`` setting)
    face_engine: SharedFaceEngine  # one per process, loaded on first use (enrolment, check-in, imports)
    face_imports: FaceImportJobs
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    archive_checks: ArchiveChecks = field(default_factory=ArchiveChecks)  # a sealed archive's hashes, checked once a minute at most
    # started tasks: the watchers end first, the bus's listener and the poll timer last
    _watchers: list[asyncio.Task[None]] = field(default_factory=list, init=False, repr=False)
    _background: list[asyncio.Task[None]] = field(default_factory=list, init=False, repr=False)
    _warm_up: threading.Thread | None = field(default=None, init=False, repr=False)  # the live models loading at start
    _starts: int = field(default=0, init=False, repr=False)  # starts not yet matched by a stop
    metrics_registry: CollectorRegistry = field(init=False, repr=False)  # its readings, for /metrics
    sessions: SessionReader = field(init=False, repr=False)  # who calls: requests' sessions, read together

    def __post_init__(self) -> None:
        self.sessions = SessionReader(self.store)
        self.metrics_registry = CollectorRegistry(auto_describe=False)
        self.metrics_registry.register(RuntimeCollector(self.readings))

    @classmethod
    def build(cls, settings: Settings, store: Store) -> Runtime:
        """Everything wired, nothing started; a room configuration is read here (and refused with
        the field at fault) before anything starts."""
        documents = DocumentFiles(settings.documents_dir, settings.max_upload_mb * (1 << 20))
        recordings = RecordingFiles(settings.recordings_dir, settings.max_recording_mb * (1 << 20))
        captions = LiveCaptions(store, settings)
        sfu = None
        if settings.janus != "off":
            options = JanusOptions(
                ws_port=settings.janus_ws_port, admin_port=settings.janus_admin_port, rtp_ports=settings.janus_rtp_ports,
                ice_servers=parse_ice_servers(settings.ice_servers),
            )  # fmt: skip
            sfu = Sfu(settings.janus, settings.data_dir / "janus", options, settings.janus_secrets_file)
        calls = Calls(store, settings, captions, sfu)
        if sfu is not None:
            sfu.on_lost = calls.sfu_lost
        include_loopback(settings.call_loopback)
        rooms = [RoomRunner(store, settings, load_room_config(path), captions, recordings, calls=calls) for path in settings.rooms]
        calls.camera_rooms = frozenset(r.room_id for r in rooms if r.config.cameras)
        transcription, face_engine = TranscriptionJobs(store, settings, recordings), SharedFaceEngine(settings)
        return cls(
            settings=settings,
            store=store,
            documents=documents,
            recordings=recordings,
            minutes_files=MinutesFiles.from_settings(settings),
            transcription=transcription,
            captions=captions,
            calls=calls,
            live=LiveSessions(store),
            rooms=rooms,
            face_engine=face_engine,
            face_imports=FaceImportJobs(store, settings, face_engine, transcription.queue),
        )

    async def start(self) -> None:
        """On the server's event loop: the bus, the rooms, the watchers; then passes that a stop
        interrupted resume. Starts nest (one app may be served by two servers at once, as a test
        client inside another does): the work runs from the first start to the last stop."""
        self._starts += 1
        if self._starts > 1:
            return
        store, loop = self.store, asyncio.get_running_loop()
        store.bus.attach(loop, read_after=lambda n: store.events(after=n, limit=500), head=store.head_seq())
        self._background += [
            asyncio.create_task(notify.listen(store.engine, store.bus, store.notifier.token)),
            asyncio.create_task(PollTimer(store).run()),
        ]
        mailer = Mailer.from_settings(self.settings, store)
        if mailer is not None:  # e-mail notices only with an SMTP server configured
            self._background.append(asyncio.create_task(mailer.run()))
        if self.rooms:  # their meetings' captions begin by themselves: the models load now, beside the start
            # the voice encoder too where a microphone is a room mix (no seats: speakers told apart by voice)
            mixes = any(not r.config.seat_map(m.name) for r in self.rooms for m in r.config.microphones)
            self._warm_up = speech_runtime.warm_up(self.settings, voices=mixes)
        for runner in self.rooms:
            runner.start()
        if self.calls.sfu is not None:  # Janus starting (or found) in the background: the server does not wait for it
            await self.calls.sfu.start()
        self._watchers.append(asyncio.create_task(_watch_meetings(store, self.rooms, self.calls, self.captions)))
        if self.settings.backup_schedule:
            self._watchers.append(asyncio.create_task(Backups(self.settings, store, self.settings.backup_schedule).run()))
        self._watchers.append(asyncio.create_task(self.live.run()))
        self._watchers.append(asyncio.create_task(watch_loop_lag()))
        await loop.run_in_executor(None, self.transcription.resume_interrupted)
        await loop.run_in_executor(None, self.face_imports.resume_interrupted)

    def readings(self) -> Readings:
        """What the metrics report at scrape time: no person, no meeting title, no ballot."""
        devices = [(runner.room_name, d.kind, d.name, d.state) for runner in self.rooms for d in runner.status()]
        if self.calls.sfu is not None:  # the SFU is the server's device, shared by its rooms
            devices.append(("máy chủ / server", "sfu", "janus", self.calls.sfu.state.value))
        return Readings(
            websocket_subscribers=self.store.bus.subscriber_count(),
            live_sessions=self.live.count(),
            devices=devices,
            call_participants=self.calls.participant_count(),
            caption_queues=self.captions.queues(),
            transcription_jobs=self.transcription.pending(),
            data_dir=self.settings.data_dir,
            call_audio_lost=(FRAMES_DROPPED.value, FRAMES_SKIPPED.value),
        )

    def surroundings(self) -> Surroundings:
        """What ``/api/health`` looks at beyond the database and the disk."""
        readings = self.readings()
        return Surroundings(
            clock=clock_status(),
            models=speech_runtime.model_readiness(self.settings),
            devices=readings.devices,
            transcription_jobs=readings.transcription_jobs,
            caption_queues=readings.caption_queues,
            janus=self.calls.sfu.state.value if self.calls.sfu is not None else SfuState.NOT_USED.value,
        )

    async def stop(self) -> None:
        """Calls hang up, rooms flush their recordings, live captions close their passes, a final
        pass stops at its next line (it resumes at the next start); each waits a bounded time. A
        stop beyond the starts does nothing."""
        if self._starts == 0:
            return
        self._starts -= 1
        if self._starts > 0:
            return
        loop = asyncio.get_running_loop()
        for task in self._watchers:
            task.cancel()
        await self.calls.close_all()
        if self.calls.sfu is not None:
            await self.calls.sfu.stop()
        for runner in self.rooms:
            await loop.run_in_executor(None, runner.stop)
        await loop.run_in_executor(None, self.captions.stop_all)
        await loop.run_in_executor(None, self.face_imports.shutdown)
        await loop.run_in_executor(None, self.transcription.shutdown)
        if self._warm_up is not None:  # a load cannot be cut short: it ends within the stop
            await loop.run_in_executor(None, self._warm_up.join, 120)
            self._warm_up = None
        for outcome in await asyncio.gather(*self._watchers, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.error("a watcher had failed before the stop", exc_info=outcome)
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._watchers.clear()
        self._background.clear()
        self.store.bus.detach()


async def _watch_meetings(store: Store, runners: list[RoomRunner], hub: Calls, captions: LiveCaptions) -> None:
    """Tell the rooms whenever a meeting changes (opened, closed, moved to another room); end the
    calls of a meeting that closed, and its live captions (a room's runner ends its own; captions
    started through the API, a replay say, ran on after the close and failed against the seal)."""
    while True:
        sub = store.bus.subscribe(None)
        try:
            async for event in sub.events():
                if not isinstance(event, StoredEvent):
                    continue  # a partial caption: no meeting changed
                if event.type.startswith("meeting."):
                    for runner in runners:
                        runner.poke()
                closed = event.type == "meeting.state_changed" and event.data.get("to_state") in ("closed", "cancelled")
                if closed and event.meeting_id is not None:
                    await hub.end_meeting(event.meeting_id)
                    # what was being said is finished into the pass (backlog), off the event loop
                    asyncio.get_running_loop().run_in_executor(None, _stop_captions, captions, event.meeting_id)
        except SubscriberOverflow:
            for runner in runners:
                runner.poke()
        finally:
            store.bus.unsubscribe(sub)


def _stop_captions(captions: LiveCaptions, meeting_id: str) -> None:
    try:
        captions.stop(None, meeting_id)
    except Exception:
        log.exception("closing the live captions of %s after the meeting closed", meeting_id)

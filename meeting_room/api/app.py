"""The FastAPI application: routers, error handlers, the live bus bound to the event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from hardware.config import load_room_config
from meeting_room import __version__, notify
from meeting_room.api import access_log, docs, errors
from meeting_room.api.body_limit import BodyLimit
from meeting_room.api.headers import SecurityHeaders
from meeting_room.api.origin import SameOrigin
from meeting_room.api.routes import (
    agenda,
    archive,
    attendance,
    auth,
    bodies,
    calls,
    certificates,
    documents,
    events,
    faces,
    floor,
    live_audio,
    meetings,
    members,
    minutes,
    pages,
    polls,
    rooms,
    search,
    signatures,
    tellers,
    transcripts,
    voices,
)
from meeting_room.api.routes import recordings as recording_routes
from meeting_room.api.routes import store as store_routes
from meeting_room.auth import LoginThrottle
from meeting_room.backup import Backups
from meeting_room.bus import SubscriberOverflow
from meeting_room.documents import DocumentFiles
from meeting_room.errors import NotFoundError
from meeting_room.health import report as health_report
from meeting_room.live.calls import Calls
from meeting_room.live.live_captions import LiveCaptions
from meeting_room.live.live_sessions import LiveSessions
from meeting_room.live.poll_timer import PollTimer
from meeting_room.live.room_runner import RoomRunner
from meeting_room.live.transcription import TranscriptionJobs
from meeting_room.minutes_files import MinutesFiles
from meeting_room.recordings import RecordingFiles
from meeting_room.settings import Settings
from meeting_room.store import Store
from webrtc.ice import include_loopback

JSON_LIMIT = 1 << 20  # no JSON request of this API comes near 1 MB
UPLOAD_OVERHEAD = 64 * 1024  # multipart headers around the file


async def _watch_meetings(store: Store, runners: list[RoomRunner], hub: Calls) -> None:
    """Tell the rooms whenever a meeting changes (opened, closed, moved to another room); end the
    calls of a meeting that closed."""
    while True:
        sub = store.bus.subscribe(None)
        try:
            async for event in sub.events():
                kind = getattr(event, "type", "")
                if kind.startswith("meeting."):
                    for runner in runners:
                        runner.poke()
                if kind == "meeting.state_changed" and event.data.get("to_state") in ("closed", "cancelled"):
                    await hub.end_meeting(event.meeting_id)
        except SubscriberOverflow:
            for runner in runners:
                runner.poke()
        finally:
            store.bus.unsubscribe(sub)


def create_app(settings: Settings, store: Store) -> FastAPI:
    """An app over an already migrated store (see ``meeting_room.server.prepare``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        access_log.install()  # no token in uvicorn's request lines (its logging is configured by now)
        store.bus.attach(asyncio.get_running_loop(), read_after=lambda n: store.events(after=n, limit=500), head=store.head_seq())
        listener = asyncio.create_task(notify.listen(store.engine, store.bus, store.notifier.token))
        timer = asyncio.create_task(PollTimer(store).run())
        for runner in app.state.rooms:
            runner.start()
        room_watch = asyncio.create_task(_watch_meetings(store, app.state.rooms, app.state.calls))
        backups = asyncio.create_task(Backups(settings, store, settings.backup_schedule).run()) if settings.backup_schedule else None
        session_watch = asyncio.create_task(app.state.live.run())
        await asyncio.get_running_loop().run_in_executor(None, app.state.transcription.resume_interrupted)
        try:
            yield
        finally:
            room_watch.cancel()
            if backups is not None:
                backups.cancel()
            session_watch.cancel()
            await app.state.calls.close_all()
            for runner in app.state.rooms:
                await asyncio.get_running_loop().run_in_executor(None, runner.stop)
            await asyncio.get_running_loop().run_in_executor(None, app.state.captions.stop_all)
            await asyncio.get_running_loop().run_in_executor(None, app.state.transcription.shutdown)
            for task in (listener, timer):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            store.bus.detach()

    app = FastAPI(
        title="Phòng họp thông minh — Meeting Room API",
        version=__version__,
        description="Họp không giấy, điểm danh, biểu quyết, biên bản có chữ ký số. / Paperless meetings on premises.",
        lifespan=lifespan,
        docs_url=None,  # served by meeting_room.api.docs from local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.login_throttle = LoginThrottle()
    app.state.files = DocumentFiles(settings.documents_dir, settings.max_upload_mb * (1 << 20))
    app.state.recordings = RecordingFiles(settings.recordings_dir, settings.max_recording_mb * (1 << 20))
    app.state.transcription = TranscriptionJobs(store, settings, app.state.recordings)
    app.state.captions = LiveCaptions(store, settings)
    app.state.minutes_files = MinutesFiles.from_settings(settings)
    app.state.calls = Calls(store, settings, app.state.captions)
    app.state.live = LiveSessions(store)  # open WebSockets by session: they close when it ends
    include_loopback(settings.call_loopback)
    # rooms this server runs: configurations are read (and refused with a clear message) before it starts
    app.state.rooms = [
        RoomRunner(store, settings, load_room_config(path), app.state.captions, app.state.recordings, calls=app.state.calls)
        for path in settings.rooms
    ]
    errors.install(app)
    upload = (app.state.files.max_bytes + UPLOAD_OVERHEAD, app.state.files.max_bytes)
    photo_bytes = settings.max_photo_mb * (1 << 20)
    photos = (photo_bytes + UPLOAD_OVERHEAD, photo_bytes)

    recording_bytes = app.state.recordings.max_bytes
    recordings = (recording_bytes + UPLOAD_OVERHEAD, recording_bytes)

    def limit_for(path: str) -> tuple[int, int]:
        if path.endswith(("/documents", "/voice")):
            return upload
        if path.endswith("/recordings"):
            return recordings
        if path.endswith(("/faces", "/attendance/face")):
            return photos
        if path.endswith("/certificate"):
            return (settings.max_certificate_kb * 1024 + UPLOAD_OVERHEAD, settings.max_certificate_kb * 1024)
        if path.endswith("/minutes/verify"):
            return (64 << 20, 64 << 20)
        return (JSON_LIMIT, JSON_LIMIT)

    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.add_middleware(SameOrigin)  # cookie requests and WebSockets from another origin: 403 / 4403
    app.add_middleware(errors.CatchAll)  # inside the headers: an unexpected error still answers, keep-alive kept
    app.add_middleware(SecurityHeaders, https=settings.https)
    app.state.face_engine = None
    for module in (
        auth,
        bodies,
        calls,
        certificates,
        members,
        faces,
        rooms,
        meetings,
        agenda,
        floor,
        documents,
        attendance,
        polls,
        tellers,
        events,
        voices,
        recording_routes,
        transcripts,
        live_audio,
        minutes,
        signatures,
        archive,
        search,
        store_routes,
    ):
        app.include_router(module.router)
    app.include_router(polls.presets_router)
    app.include_router(rooms.machine_router)
    app.include_router(calls.join_router)

    pages.install(app)
    docs.install(app)

    @app.get("/tls/ca.crt", tags=["health"], response_class=Response)
    def local_ca() -> Response:
        """The local certificate authority to install on members' devices (HTTPS without warnings)."""
        path = settings.data_dir / "tls" / "ca.crt"
        if settings.tls_cert is not None or not path.is_file():
            raise NotFoundError(
                "Máy chủ không dùng CA nội bộ (HTTPS tắt hoặc dùng chứng thư được cấu hình)",
                "This server has no local CA (HTTPS is off or uses a configured certificate)",
            )
        return Response(path.read_bytes(), media_type="application/x-x509-ca-cert",
                        headers={"Content-Disposition": 'attachment; filename="phong-hop-ca.crt"'})  # fmt: skip

    @app.get("/api/health", tags=["health"], responses={503: {"description": "The database or the data disk cannot be written"}})
    def health() -> JSONResponse:
        """Health: the database reads and writes, the data directory's disk has room and takes a write (503 when not)."""
        ok, body = health_report(store.engine, settings.data_dir)
        return JSONResponse({**body, "version": __version__}, 200 if ok else 503)

    return app

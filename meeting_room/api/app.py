"""The FastAPI application: routers, error handlers, middleware; its lifespan starts and stops the runtime."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response

from meeting_room import __version__
from meeting_room.api import access_log, docs, errors
from meeting_room.api.body_limit import BodyLimit
from meeting_room.api.headers import SecurityHeaders
from meeting_room.api.origin import SameOrigin
from meeting_room.api.request_metrics import RequestMetrics
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
    face_imports,
    faces,
    floor,
    hall,
    join,
    live_audio,
    meeting_seats,
    meetings,
    members,
    minutes,
    notes,
    notice,
    operations,
    opinions,
    pages,
    polls,
    replies,
    rooms,
    search,
    signature_images,
    signatures,
    speaking_stats,
    tellers,
    transcripts,
    voices,
)
from meeting_room.api.routes import recordings as recording_routes
from meeting_room.api.routes import store as store_routes
from meeting_room.errors import NotFoundError
from meeting_room.live.runtime import Runtime
from meeting_room.settings import Settings
from meeting_room.store import Store
from transcripts.signature_images import MAX_BYTES as SIGNATURE_IMAGE_BYTES

JSON_LIMIT = 1 << 20  # no JSON request of this API comes near 1 MB
UPLOAD_OVERHEAD = 64 * 1024  # multipart headers around the file


_ID = r"[^/]+"
# The requests that carry a file, by method and whole path: every other body gets JSON_LIMIT. Matched whole,
# not by how the path ends: an id the client chooses ("…/speakers/recordings") found the 2 GB limit of a
# recording, and its JSON was read in full before the log-in was checked (an attacker's probe).
UPLOAD_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), kind)
    for method, pattern, kind in (
        ("POST", rf"/api/meetings/{_ID}/agenda/{_ID}/documents", "upload"),
        ("PUT", rf"/api/meetings/{_ID}/documents/{_ID}/file", "upload"),  # a replacement
        ("POST", rf"/api/members/{_ID}/voice", "upload"),
        ("POST", rf"/api/meetings/{_ID}/recordings", "recording"),
        ("POST", rf"/api/members/{_ID}/faces", "photos"),
        ("POST", rf"/api/meetings/{_ID}/attendance/face", "photos"),
        ("POST", r"/api/face-imports", "archive"),
        ("POST", rf"/api/members/{_ID}/certificate", "certificate"),
        ("PUT", rf"/api/members/{_ID}/signature-image", "image"),
        ("PUT", rf"/api/bodies/{_ID}/seal-image", "image"),
        ("POST", r"/api/minutes/verify", "pdf"),
        ("POST", rf"/api/meetings/{_ID}/minutes/signed", "pdf"),
    )
)


def create_app(settings: Settings, store: Store) -> FastAPI:
    """An app over an already migrated store (see ``meeting_room.server.prepare``), its runtime built here."""
    return create_app_for(Runtime.build(settings, store))


def create_app_for(runtime: Runtime) -> FastAPI:
    """The app that serves ``runtime`` (built by the CLI before it starts the server) and starts and
    stops it with its lifespan; ``app.state.runtime`` is the app's one state."""
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        access_log.install()  # no token in uvicorn's request lines (its logging is configured by now)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="Phòng họp thông minh — Meeting Room API",
        version=__version__,
        description=(
            "Họp không giấy, điểm danh, biểu quyết, biên bản có chữ ký số. / Paperless meetings on premises.\n\n"
            "Lists that grow (meetings, members) come a page at a time: `limit` and `offset` in; the body is the page's "
            'JSON list, `X-Total-Count` the number in all and `Link: <…>; rel="next"` the next page (absent on the last).'
        ),
        lifespan=lifespan,
        docs_url=None,  # served by meeting_room.api.docs from local assets
        redoc_url=None,
    )
    app.state.runtime = runtime
    errors.install(app)
    upload = (runtime.documents.max_bytes + UPLOAD_OVERHEAD, runtime.documents.max_bytes)
    photo_bytes = settings.max_photo_mb * (1 << 20)
    photos = (photo_bytes + UPLOAD_OVERHEAD, photo_bytes)

    archive_bytes = settings.max_face_import_mb * (1 << 20)
    recording_bytes = runtime.recordings.max_bytes
    recordings = (recording_bytes + UPLOAD_OVERHEAD, recording_bytes)

    limits = {
        "upload": upload,
        "recording": recordings,
        "photos": photos,
        "archive": (archive_bytes + UPLOAD_OVERHEAD, archive_bytes),
        "certificate": (settings.max_certificate_kb * 1024 + UPLOAD_OVERHEAD, settings.max_certificate_kb * 1024),
        "image": (SIGNATURE_IMAGE_BYTES + UPLOAD_OVERHEAD, SIGNATURE_IMAGE_BYTES),
        "pdf": (64 << 20, 64 << 20),
    }

    def limit_for(method: str, path: str) -> tuple[int, int]:
        for route_method, pattern, kind in UPLOAD_ROUTES:
            if method == route_method and pattern.fullmatch(path):
                return limits[kind]
        return (JSON_LIMIT, JSON_LIMIT)

    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.add_middleware(SameOrigin)  # cookie requests and WebSockets from another origin: 403 / 4403
    app.add_middleware(errors.CatchAll)  # inside the headers: an unexpected error still answers, keep-alive kept
    app.add_middleware(SecurityHeaders, https=settings.https)
    app.add_middleware(RequestMetrics)  # outermost: the request id is set before anything logs
    # FastAPI tries the routers in this order, each route by its pattern (~4 µs a route): the votes
    # come first, as 500 ballots in one second are this server's peak (no other router's paths
    # contain /polls, so none is shadowed).
    for module in (
        polls,
        auth,
        bodies,
        calls,
        certificates,
        members,
        faces,
        face_imports,
        rooms,
        meetings,
        agenda,
        floor,
        documents,
        notes,
        attendance,
        replies,
        opinions,
        tellers,
        events,
        hall,
        voices,
        recording_routes,
        transcripts,
        speaking_stats,
        live_audio,
        meeting_seats,
        minutes,
        notice,
        signatures,
        signature_images,
        archive,
        search,
        store_routes,
        operations,
    ):
        app.include_router(module.router)
    app.include_router(polls.presets_router)
    app.include_router(rooms.machine_router)
    app.include_router(join.router)

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

    return app

"""A meeting's recordings: uploaded, listed, and played back (with HTTP Range)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from meeting_room.access import Actor, get_meeting, require_staff, require_view
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.files import recording_files
from meeting_room.api.uploads import file_schema as _file_schema
from meeting_room.api.uploads import one_file as _one_file
from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError
from meeting_room.files.documents import clean_filename
from meeting_room.files.recordings import ACCEPTED, RecordingFiles, media_type_of
from meeting_room.services import recordings, worker_credentials
from meeting_room.store import Store, refuse_if_sealed

router = APIRouter(tags=["transcripts"])


class RecordingOut(BaseModel):
    recording_id: str
    filename: str
    size: int
    duration_s: float
    channels: int
    sha256: str
    added_at: datetime


def _recording_out(r: t.Recording) -> RecordingOut:
    return RecordingOut(
        recording_id=r.id,
        filename=r.filename,
        size=r.size,
        duration_s=r.duration_s,
        channels=r.channels,
        sha256=r.sha256,
        added_at=r.added_at,
    )


def _may_upload(store: Store, actor: Actor, meeting_id: str) -> None:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="tải lên bản ghi", action_en="upload a recording")
        refuse_if_sealed(meeting)  # before gigabytes are read and kept for a record that cannot take them


def _add_recording(store: Store, actor: Actor, meeting_id: str, files: RecordingFiles, upload: UploadFile) -> RecordingOut:
    _may_upload(store, actor, meeting_id)  # again: a role may have changed while the upload came in
    clean_filename(upload.filename)  # a bad name is refused before anything is stored
    upload.file.seek(0)
    stored = files.ingest(upload.file)
    recording_id = recordings.add_recording(store, files, actor.member_id, meeting_id, stored, upload.filename)
    with store.read() as session:
        return _recording_out(session.get_one(t.Recording, recording_id))


@router.post("/api/meetings/{meeting_id}/recordings", status_code=201, openapi_extra=_file_schema("file", "The meeting's audio or video"))
async def upload_recording(meeting_id: str, request: Request, store: StoreDep, actor: ActorDep) -> RecordingOut:
    """Upload a recording of the meeting (chair, secretary): any audio, or a video with sound."""
    # before the upload is read: a member's 2 GB body was written to a temporary file before the 403 (attacker probe)
    await run_in_threadpool(_may_upload, store, actor, meeting_id)
    upload = await _one_file(request, "file", ACCEPTED)
    try:
        return await run_in_threadpool(_add_recording, store, actor, meeting_id, recording_files(request), upload)
    finally:
        await upload.close()


@router.get("/api/meetings/{meeting_id}/recordings")
def list_recordings(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[RecordingOut]:
    """The meeting's recordings."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        rows = session.scalars(select(t.Recording).where(t.Recording.meeting_id == meeting_id).order_by(t.Recording.added_at))
        return [_recording_out(r) for r in rows]


@router.get("/api/meetings/{meeting_id}/recordings/{recording_id}/file", response_class=FileResponse)
def recording_file(meeting_id: str, recording_id: str, request: Request, store: StoreDep, actor: ActorDep) -> FileResponse:
    """The recording itself (supports HTTP Range, so a player can jump to a transcript line)."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        r = session.get(t.Recording, recording_id)
        if r is None or r.meeting_id != meeting_id:
            raise NotFoundError(f"Không có bản ghi {recording_id}", f"No recording {recording_id}", recording_id=recording_id)
    return FileResponse(recording_files(request).open(r.sha256), media_type=media_type_of(r.filename), filename=r.filename)


@router.get("/api/worker/recordings/{recording_id}", response_class=FileResponse)
def worker_recording(recording_id: str, request: Request, store: StoreDep) -> FileResponse:
    """A queued final pass's recording for a transcription worker (``Authorization: Bearer`` a worker credential)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    r = worker_credentials.queued_recording(store, token.strip() if scheme.lower() == "bearer" else None, recording_id)
    return FileResponse(recording_files(request).open(r.sha256), media_type=media_type_of(r.filename), filename=r.filename)

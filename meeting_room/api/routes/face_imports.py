"""Face photos of many members at once: a ZIP of one folder per member, enrolled by a job."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from meeting_room.api.deps import ActorDep, StoreDep, runtime_of
from meeting_room.api.uploads import file_and_fields, file_schema
from meeting_room.errors import InvalidInputError
from meeting_room.services import face_imports

router = APIRouter(prefix="/api/face-imports", tags=["faces"])


class RefusedPhotoOut(BaseModel):
    photo: str
    message_vi: str
    message_en: str


class MemberResultOut(BaseModel):
    folder: str
    member_id: str
    full_name: str
    enrolled: int
    refused: list[RefusedPhotoOut]
    error_vi: str | None
    error_en: str | None
    known: int = 0
    skipped: bool = Field(False, description="Left out at upload for a problem (skip_problems): nothing was imported for it")


class FaceImportOut(BaseModel):
    id: str
    created_at: datetime
    created_by: str
    filename: str
    state: str  # queued, running, done, failed, stopped
    members_total: int = Field(description="The members' folders, those left out at upload included")
    members_done: int
    photos_total: int
    photos_enrolled: int
    photos_known: int
    results: list[MemberResultOut]
    not_done: list[str]
    tries: int
    error: str | None
    ended_at: datetime | None


def _out(view: face_imports.FaceImportView) -> FaceImportOut:
    return FaceImportOut.model_validate(
        {
            **view.__dict__,
            "members_done": len(view.results),
            "photos_enrolled": sum(r.enrolled for r in view.results),
            "photos_known": sum(r.known for r in view.results),
            "results": [r.__dict__ for r in view.results],
        }
    )


@router.post("", status_code=202, openapi_extra=file_schema("archive", "A ZIP: one folder per member (username or id), 1-10 photos each"))
async def start_import(request: Request, store: StoreDep, actor: ActorDep) -> FaceImportOut:
    """Check a ZIP of face photos and queue its import (admin). Any problem (layout, file type, size, unknown
    member, no consent) refuses the whole archive with the list, and nothing is stored; with the form field
    ``skip_problems=true`` the members' folders with a problem are left out (each reported as its result)."""
    face_imports.may_import(actor)  # an administrator, before the upload is read
    upload, fields = await file_and_fields(request, "archive", "ZIP")
    skip = fields.get("skip_problems", "false")
    if skip not in ("true", "false"):
        await upload.close()
        raise InvalidInputError("“skip_problems” phải là true hoặc false", "'skip_problems' must be true or false",
                                field="skip_problems", accepted="true or false")  # fmt: skip
    limit = runtime_of(request).settings.max_face_import_mb << 20
    try:
        data = await upload.read(limit + 1)
    finally:
        await upload.close()
    if len(data) > limit:
        raise InvalidInputError(
            f"Tệp ZIP lớn hơn {limit >> 20} MB", f"The ZIP is over {limit >> 20} MB", accepted=f"at most {limit >> 20} MB"
        )
    jobs = runtime_of(request).face_imports
    import_id = await run_in_threadpool(jobs.start, actor, upload.filename or "ảnh.zip", data, skip == "true")
    return _out(await run_in_threadpool(face_imports.get, store, actor, import_id))


@router.get("")
def list_imports(store: StoreDep, actor: ActorDep) -> list[FaceImportOut]:
    """The newest face imports first, with their progress and each member's result (admin)."""
    return [_out(v) for v in face_imports.listed(store, actor)]


@router.get("/{import_id}")
def get_import(import_id: str, store: StoreDep, actor: ActorDep) -> FaceImportOut:
    return _out(face_imports.get(store, actor, import_id))


@router.post("/{import_id}/stop")
def stop_import(import_id: str, request: Request, store: StoreDep, actor: ActorDep) -> FaceImportOut:
    """Stop an import (admin): members already done stay enrolled; the uploaded photos are deleted."""
    runtime_of(request).face_imports.stop(actor, import_id)
    return _out(face_imports.get(store, actor, import_id))

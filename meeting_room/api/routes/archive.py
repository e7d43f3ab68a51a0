"""The sealed archive of a meeting: sealing it, and checking every hash of it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from meeting_room.access import get_meeting, require_view
from meeting_room.api.deps import ActorDep, StoreDep, runtime_of
from meeting_room.api.routes.files import minutes_files
from meeting_room.db import tables as t
from meeting_room.services import archive as archive_service

router = APIRouter(tags=["minutes", "archive"])


class ArchiveOut(BaseModel):
    meeting_id: str
    sealed: bool
    ok: bool
    files: int
    problems: list[dict[str, str]]
    checked_seconds_ago: float = Field(
        0.0,
        description="When the hashing began: a check that finished less than a minute ago (or one running now) is given "
        "again while no file changed",
    )


@router.post("/api/meetings/{meeting_id}/archive")
def seal_archive(meeting_id: str, request: Request, store: StoreDep, actor: ActorDep) -> ArchiveOut:
    """Seal the archive of a signed meeting (when sealing after the chair's signature did not complete)."""
    runtime = runtime_of(request)
    sealed = archive_service.seal(store, actor, meeting_id, minutes_files(request), runtime.recordings, runtime.documents)
    return ArchiveOut(meeting_id=meeting_id, sealed=True, ok=True, files=sealed.files, problems=[])


@router.get("/api/meetings/{meeting_id}/archive")
def check_archive(meeting_id: str, request: Request, store: StoreDep, actor: ActorDep) -> ArchiveOut:
    """Recompute every hash of the meeting's sealed archive; name what is missing or modified."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        record = session.get(t.ArchiveRecord, meeting_id)
    if record is None:
        return ArchiveOut(meeting_id=meeting_id, sealed=False, ok=False, files=0, problems=[])
    report, age = runtime_of(request).archive_checks.check(minutes_files(request).archive_path(meeting_id), record.manifest_sha256)
    return ArchiveOut(
        meeting_id=meeting_id,
        sealed=True,
        ok=report.ok,
        files=report.files,
        problems=[{"file": p.name, "problem": p.problem, "message": p.text_vi()} for p in report.problems],
        checked_seconds_ago=round(age, 1),
    )

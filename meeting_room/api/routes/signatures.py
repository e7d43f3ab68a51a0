"""Signatures of the minutes: signing with one's registered certificate, and checking signed PDFs."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep, runtime_of
from meeting_room.api.routes.files import minutes_files, timezone_of
from meeting_room.api.uploads import file_and_fields, file_schema
from meeting_room.errors import NotFoundError
from meeting_room.services import archive as archive_service
from meeting_room.services import minutes as minutes_service
from transcripts.signing import SignatureReport, verify_pdf

router = APIRouter(tags=["minutes"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passphrase: str = Field(max_length=1024, description="The passphrase of the signer's own PKCS#12 file (used once, never stored)")


class SignOut(BaseModel):
    role: str
    version: int
    pdf_sha256: str
    timestamped: bool
    sealed: bool
    archive_files: int | None = None


@router.post("/api/meetings/{meeting_id}/minutes/sign")
def sign_minutes(meeting_id: str, body: SignIn, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> SignOut:
    """Sign the minutes with your registered certificate: the secretary first, then the chair (which seals the archive)."""
    runtime = runtime_of(request)
    files = minutes_files(request)
    done = archive_service.sign(
        store, actor, meeting_id, body.passphrase, files, runtime.recordings, runtime.documents, tz=timezone_of(settings)
    )
    s = done.signature
    return SignOut(
        role=s.role,
        version=s.version,
        pdf_sha256=s.pdf_sha256,
        timestamped=s.timestamped,
        sealed=done.sealed is not None,
        archive_files=done.sealed.files if done.sealed else None,
    )


class SignatureReportOut(BaseModel):
    field: str
    signer: str
    signer_subject: str
    fingerprint_sha256: str
    signed_at: datetime | None
    timestamp: datetime | None
    timestamp_trusted: bool | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: str
    modification: str
    changed_after_signing: bool
    ok: bool
    summary: str
    problems: list[str]


def _report_out(r: SignatureReport) -> SignatureReportOut:
    return SignatureReportOut(
        field=r.field,
        signer=r.signer,
        signer_subject=r.signer_subject,
        fingerprint_sha256=r.fingerprint_sha256,
        signed_at=r.signed_at,
        timestamp=r.timestamp,
        timestamp_trusted=r.timestamp_trusted,
        intact=r.intact,
        valid=r.valid,
        trusted=r.trusted,
        coverage=r.coverage,
        modification=r.modification,
        changed_after_signing=r.changed_after_signing,
        ok=r.ok,
        summary=r.summary_vi(),
        problems=list(r.problems),
    )


@router.get("/api/meetings/{meeting_id}/minutes/verify")
def verify_stored(meeting_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> list[SignatureReportOut]:
    """Check every signature of the meeting's signed minutes against the configured trusted roots."""
    files = minutes_files(request)
    data, signed = minutes_service.current_pdf(store, actor, meeting_id, files, tz=timezone_of(settings))
    if not signed:
        raise NotFoundError("Biên bản chưa được ký", "The minutes are not signed yet", meeting_id=meeting_id)
    return [_report_out(r) for r in verify_pdf(data, files.trust_root_bytes())]


@router.post("/api/minutes/verify", openapi_extra=file_schema("file", "A signed PDF"))
async def verify_upload(request: Request, actor: ActorDep) -> list[SignatureReportOut]:
    """Check the signatures of any PDF (e.g. a copy received by e-mail) against the trusted roots."""
    upload, _ = await file_and_fields(request, "file", "PDF")
    try:
        data = await upload.read(64 << 20)
    finally:
        await upload.close()
    reports = await run_in_threadpool(verify_pdf, data, minutes_files(request).trust_root_bytes())
    return [_report_out(r) for r in reports]

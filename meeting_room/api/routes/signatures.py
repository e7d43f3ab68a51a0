"""Signatures of the minutes: signing with one's registered certificate, and checking signed PDFs."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep, runtime_of
from meeting_room.api.routes.files import minutes_files, timezone_of
from meeting_room.api.uploads import file_and_fields, file_schema
from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError, StillRunningError
from meeting_room.services import archive as archive_service
from meeting_room.services import minutes as minutes_service
from meeting_room.store import Store
from transcripts.signing import FIELD_NAMES, VERIFY_CPU_S, SignatureReport, verify_pdf

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
    seal_problem: str | None = None  # signed, but the seal that follows the chair's signature did not complete: why (Vietnamese)
    seal_problem_en: str | None = None


def _sign_out(done: archive_service.Signed) -> SignOut:
    s = done.signature
    return SignOut(
        role=s.role,
        version=s.version,
        pdf_sha256=s.pdf_sha256,
        timestamped=s.timestamped,
        sealed=done.sealed is not None,
        archive_files=done.sealed.files if done.sealed else None,
        seal_problem=done.seal_problem.message_vi if done.seal_problem else None,
        seal_problem_en=done.seal_problem.message_en if done.seal_problem else None,
    )


@router.post("/api/meetings/{meeting_id}/minutes/sign")
def sign_minutes(meeting_id: str, body: SignIn, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> SignOut:
    """Sign the minutes with your registered certificate: the secretary first, then the chair (which seals the archive)."""
    runtime = runtime_of(request)
    files = minutes_files(request)
    client = request.client.host if request.client else "?"
    done = archive_service.sign(
        store, actor, meeting_id, body.passphrase, files, runtime.recordings, runtime.documents, tz=timezone_of(settings),
        throttle=runtime.login_throttle, client=client,
    )  # fmt: skip
    return _sign_out(done)


class SigningJobOut(BaseModel):
    """Everything a signer's own computer needs to sign exactly as the server would (``meeting-room sign``)."""

    role: str
    field: str
    version: int
    page: int = Field(description="0-based page of the signature box")
    box: list[float] = Field(description="x1, y1, x2, y2 in PDF points")
    signer_name: str
    signer_title: str | None
    source_sha256: str = Field(description="Send it back with the signed file")
    pdf_base64: str
    signature_png_base64: str | None
    seal_png_base64: str | None
    tsa_url: str | None


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


@router.post("/api/meetings/{meeting_id}/minutes/to-sign")
def hand_out(meeting_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> SigningJobOut:
    """The minutes to sign on your own computer with your token, if your signature is the one they wait for."""
    files = minutes_files(request)
    job = minutes_service.hand_out(store, actor, meeting_id, files, tz=timezone_of(settings))
    r = job.request
    return SigningJobOut(
        role=job.role, field=FIELD_NAMES[job.role], version=job.version, page=r.page, box=list(r.box), signer_name=r.signer_name,
        signer_title=r.signer_title, source_sha256=job.source_sha, pdf_base64=base64.b64encode(job.source).decode(),
        signature_png_base64=_b64(r.signature_png), seal_png_base64=_b64(r.seal_png), tsa_url=files.tsa_url,
    )  # fmt: skip


@router.post(
    "/api/meetings/{meeting_id}/minutes/signed",
    openapi_extra=file_schema("file", "The PDF handed out by /minutes/to-sign with your signature added; its source_sha256 in a field"),
)
async def accept_signed(meeting_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> SignOut:
    """Upload the minutes you signed on your own computer; the server checks them before it keeps anything."""
    await run_in_threadpool(minutes_service.require_signer, store, actor, meeting_id)  # nobody else's upload is read
    upload, fields = await file_and_fields(request, "file", "PDF")
    try:
        data = await upload.read(64 << 20)
    finally:
        await upload.close()
    runtime = runtime_of(request)
    done = await run_in_threadpool(
        archive_service.accept_signed, store, actor, meeting_id, fields.get("source_sha256", ""), data, minutes_files(request),
        runtime.recordings, runtime.documents, tz=timezone_of(settings),
    )  # fmt: skip
    return _sign_out(done)


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
    registered: bool = Field(description="The certificate is one the administrator registered for a signer of this server")
    summary: str
    problems: list[str]


def _registered(store: Store) -> set[str]:
    """The signers' registered certificates: without a configured root, what says a signature is the one expected."""
    with store.read() as session:
        return set(session.scalars(select(t.SignerCertificate.fingerprint_sha256)))


def _report_out(r: SignatureReport, registered: set[str]) -> SignatureReportOut:
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
        registered=r.fingerprint_sha256 in registered,
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
    registered = _registered(store)
    return [_report_out(r, registered) for r in verify_pdf(data, files.trust_root_bytes())]


_checking: set[str] = set()  # who has an uploaded PDF in the checker now
_checking_lock = threading.Lock()


@contextmanager
def _one_check_each(member_id: str) -> Iterator[None]:
    """The checker takes one PDF at a time (up to its CPU cap each): one member's stream of hostile
    files could otherwise fill its queue, and every other member's check would wait behind them."""
    with _checking_lock:
        if member_id in _checking:
            raise StillRunningError(
                "Tệp bạn gửi trước vẫn đang được kiểm tra; hãy đợi kết quả rồi gửi tệp tiếp theo",
                "The file you sent before is still being checked; wait for its result before sending the next",
                retry_after=VERIFY_CPU_S,
            )
        _checking.add(member_id)
    try:
        yield
    finally:
        with _checking_lock:
            _checking.discard(member_id)


@router.post("/api/minutes/verify", openapi_extra=file_schema("file", "A signed PDF"))
async def verify_upload(request: Request, store: StoreDep, actor: ActorDep) -> list[SignatureReportOut]:
    """Check the signatures of any PDF (e.g. a copy received by e-mail) against the trusted roots; one
    at a time for each member (429 ``still_running`` while their last one is checked)."""
    with _one_check_each(actor.member_id):
        upload, _ = await file_and_fields(request, "file", "PDF")
        try:
            data = await upload.read(64 << 20)
        finally:
            await upload.close()
        reports = await run_in_threadpool(verify_pdf, data, minutes_files(request).trust_root_bytes())
    registered = await run_in_threadpool(_registered, store)
    return [_report_out(r, registered) for r in reports]

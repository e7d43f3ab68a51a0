"""Minutes (draft, versions, PDF/DOCX), signing certificates, signatures, the sealed archive, search."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from meeting_room import search_index
from meeting_room.access import Actor, get_meeting, meeting_role, require_view
from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep
from meeting_room.api.routes.schemas import MAX_VERSION, Version
from meeting_room.api.uploads import file_and_fields, file_schema
from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError
from meeting_room.minutes_files import MinutesFiles
from meeting_room.roles import Role
from meeting_room.services import agenda as agenda_service
from meeting_room.services import archive as archive_service
from meeting_room.services import certificates
from meeting_room.services import minutes as minutes_service
from meeting_room.settings import Settings
from meeting_room.store import Store
from meeting_room.transcript_reads import current_pass, lines
from transcripts.minutes import PollTable, TranscriptEntry
from transcripts.search import parse_query
from transcripts.signing import SignatureReport, verify_pdf
from transcripts.word import minutes_docx, transcript_docx

router = APIRouter(tags=["minutes"])
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def minutes_files(request: Request) -> MinutesFiles:
    return request.app.state.minutes_files  # type: ignore[no-any-return]


def _tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def _attachment(name: str) -> dict[str, str]:
    from urllib.parse import quote

    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


# --- agenda timing ------------------------------------------------------------------------------


@router.post("/api/meetings/{meeting_id}/agenda/{item_id}/take", status_code=204, tags=["agenda"])
def take_item(meeting_id: str, item_id: str, store: StoreDep, actor: ActorDep) -> Response:
    """Move the meeting on to an agenda item (chair, secretary): what is said from now on belongs to it."""
    agenda_service.take_item(store, actor, meeting_id, item_id)
    return Response(status_code=204)


# --- the minutes ----------------------------------------------------------------------------------


class PollOut(BaseModel):
    title: str
    rule: str
    electorate: str
    outcome: str
    reason: str
    secret: bool
    rows: list[dict[str, object]]


class SectionOut(BaseModel):
    item_id: str
    title: str
    text: str
    polls: list[PollOut]


class SignatureOut(BaseModel):
    role: str
    member_id: str
    version: int
    signed_at: datetime
    timestamped: bool
    pdf_sha256: str


class MinutesOut(BaseModel):
    meeting_id: str
    version: int = Field(description="0: the automatic draft, not saved yet")
    versions: list[int]
    number: str
    title: str
    place: str
    opening: str
    closing: str
    recipients: list[str]
    sections: list[SectionOut]
    attendance: dict[str, list[str]]
    signatures: list[SignatureOut]
    editable: bool
    state: str


def _poll_out(p: PollTable) -> PollOut:
    return PollOut(
        title=p.title,
        rule=p.rule,
        electorate=p.electorate,
        outcome=p.outcome,
        reason=p.reason,
        secret=p.secret,
        rows=[{"label": r.label, "votes": r.votes, "percent": r.percent, "selected": r.selected} for r in p.rows],
    )


@router.get("/api/meetings/{meeting_id}/minutes")
def get_minutes(meeting_id: str, store: StoreDep, settings: SettingsDep, actor: ActorDep, version: Version = None) -> MinutesOut:
    """The minutes: the newest saved version (or the automatic draft), with polls, attendance and signatures."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        row = (
            minutes_service.version_of(session, meeting_id, version)
            if version is not None
            else minutes_service.latest_version(session, meeting_id)
        )
        minutes = minutes_service.build(session, meeting_id, row, tz=_tz(settings))
        versions = list(
            session.scalars(
                select(t.MinutesVersion.version).where(t.MinutesVersion.meeting_id == meeting_id).order_by(t.MinutesVersion.version)
            )
        )
        signed = minutes_service.signatures(session, meeting_id)
        can_edit = (
            actor.has(Role.CLERK)
            or meeting_role(session, actor, meeting) is not None
            and meeting_role(session, actor, meeting).value in ("chair", "secretary")
        )
        editable = meeting.state == "closed" and not signed and can_edit
    return MinutesOut(
        meeting_id=meeting_id,
        version=minutes.version,
        versions=versions,
        number=minutes.number,
        title=minutes.title,
        place=minutes.place,
        opening=minutes.opening,
        closing=minutes.closing,
        recipients=list(minutes.recipients),
        sections=[
            SectionOut(item_id=s.item_id, title=s.title, text=s.text, polls=[_poll_out(p) for p in s.polls]) for s in minutes.sections
        ],
        attendance={heading: [a.label() for a in people] for heading, people in minutes.attendance.groups()},
        signatures=[
            SignatureOut(
                role=s.role,
                member_id=s.member_id,
                version=s.version,
                signed_at=s.signed_at,
                timestamped=s.timestamped,
                pdf_sha256=s.pdf_sha256,
            )
            for s in sorted(signed.values(), key=lambda s: minutes_service.ROLE_ORDER.index(s.role))
        ],
        editable=editable,
        state=meeting.state,
    )


class MinutesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_version: int | None = Field(
        None, ge=0, le=MAX_VERSION, description="The version the edit started from; a newer saved version refuses the save."
    )
    number: str | None = Field(None, max_length=32)
    place: str | None = Field(None, max_length=255)
    opening: str | None = Field(None, max_length=20_000)
    closing: str | None = Field(None, max_length=20_000)
    recipients: list[str] | None = Field(None, max_length=50)
    sections: dict[str, str] | None = Field(None, description="agenda item id (or 'general') -> text")


@router.put("/api/meetings/{meeting_id}/minutes")
def save_minutes(meeting_id: str, body: MinutesIn, store: StoreDep, actor: ActorDep) -> dict[str, int]:
    """Save the secretary's edit as a new version (every version is kept)."""
    edit = minutes_service.MinutesEdit(body.sections, body.number, body.place, body.opening, body.closing, body.recipients)
    return {"version": minutes_service.save_version(store, actor, meeting_id, edit, base_version=body.base_version)}


@router.get("/api/meetings/{meeting_id}/minutes.pdf", response_class=Response)
def minutes_pdf(
    meeting_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep, version: Version = None
) -> Response:
    """The minutes as PDF: the signed file once signed, else a rendering of the newest (or the given) version."""
    files = minutes_files(request)
    if version is None:
        data, signed = minutes_service.current_pdf(store, actor, meeting_id, files, tz=_tz(settings))
    else:
        data, signed = minutes_service.render(store, actor, meeting_id, files, tz=_tz(settings), version=version).pdf, False
    name = f"bien-ban-{meeting_id}{'-da-ky' if signed else ''}.pdf"
    return Response(data, media_type=PDF, headers={**_attachment(name), "X-Minutes-Signed": str(signed).lower()})


@router.get("/api/meetings/{meeting_id}/minutes.docx", response_class=Response)
def minutes_word(meeting_id: str, store: StoreDep, settings: SettingsDep, actor: ActorDep, version: Version = None) -> Response:
    """The minutes as a Word document (a working copy; the signed PDF is the record)."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        row = (
            minutes_service.version_of(session, meeting_id, version)
            if version is not None
            else minutes_service.latest_version(session, meeting_id)
        )
        minutes = minutes_service.build(session, meeting_id, row, tz=_tz(settings))
    return Response(minutes_docx(minutes), media_type=DOCX, headers=_attachment(f"bien-ban-{meeting_id}.docx"))


@router.get("/api/meetings/{meeting_id}/transcript.docx", response_class=Response, tags=["transcripts"])
def transcript_word(meeting_id: str, store: StoreDep, actor: ActorDep) -> Response:
    """The meeting's transcript as a Word document, every line with its time and speaker."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        run = current_pass(session, meeting_id)
        entries = (
            [TranscriptEntry(line.start, line.speaker or "Chưa rõ người nói", line.text) for line in lines(session, run.id)] if run else []
        )
        title = f"{meeting.title} — {meeting.starts_at:%d/%m/%Y}"
    return Response(transcript_docx(title, entries), media_type=DOCX, headers=_attachment(f"ban-ghi-{meeting_id}.docx"))


# --- certificates and signatures -----------------------------------------------------------------


class CertificateOut(BaseModel):
    member_id: str
    common_name: str
    issuer: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime


@router.post(
    "/api/members/{member_id}/certificate",
    status_code=201,
    tags=["members"],
    openapi_extra=file_schema("file", "PKCS#12 (.p12/.pfx) with the key and certificate; the passphrase in the 'passphrase' field"),
)
async def register_certificate(member_id: str, request: Request, store: StoreDep, actor: ActorDep) -> CertificateOut:
    """Register a member's signing certificate (administrator); the passphrase is checked, never stored."""
    upload, fields = await file_and_fields(request, "file", "PKCS#12 (.p12/.pfx)")
    try:
        data = await upload.read(minutes_files(request).max_certificate_bytes + 1)
    finally:
        await upload.close()
    info = await run_in_threadpool(
        certificates.register, store, actor, member_id, data, fields.get("passphrase", ""), minutes_files(request)
    )
    return CertificateOut(
        member_id=member_id,
        common_name=info.common_name,
        issuer=info.issuer,
        fingerprint_sha256=info.fingerprint_sha256,
        not_before=info.not_before,
        not_after=info.not_after,
    )


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


def _sign_and_seal(store: Store, actor: Actor, meeting_id: str, passphrase: str, request: Request, tz: ZoneInfo) -> SignOut:
    files = minutes_files(request)
    done = minutes_service.sign(store, actor, meeting_id, passphrase, files, tz=tz)
    if done.role != "chair":
        return SignOut(role=done.role, version=done.version, pdf_sha256=done.pdf_sha256, timestamped=done.timestamped, sealed=False)
    sealed = archive_service.seal(store, None, meeting_id, files, request.app.state.recordings, request.app.state.files)
    return SignOut(
        role=done.role,
        version=done.version,
        pdf_sha256=done.pdf_sha256,
        timestamped=done.timestamped,
        sealed=True,
        archive_files=sealed.files,
    )


@router.post("/api/meetings/{meeting_id}/minutes/sign")
def sign_minutes(meeting_id: str, body: SignIn, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> SignOut:
    """Sign the minutes with your registered certificate: the secretary first, then the chair (which seals the archive)."""
    return _sign_and_seal(store, actor, meeting_id, body.passphrase, request, _tz(settings))


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
    data, signed = minutes_service.current_pdf(store, actor, meeting_id, files, tz=_tz(settings))
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


# --- archive ------------------------------------------------------------------------------------


class ArchiveOut(BaseModel):
    meeting_id: str
    sealed: bool
    ok: bool
    files: int
    problems: list[dict[str, str]]


@router.post("/api/meetings/{meeting_id}/archive", tags=["archive"])
def seal_archive(meeting_id: str, request: Request, store: StoreDep, actor: ActorDep) -> ArchiveOut:
    """Seal the archive of a signed meeting (when sealing after the chair's signature did not complete)."""
    sealed = archive_service.seal(store, actor, meeting_id, minutes_files(request), request.app.state.recordings, request.app.state.files)
    return ArchiveOut(meeting_id=meeting_id, sealed=True, ok=True, files=sealed.files, problems=[])


@router.get("/api/meetings/{meeting_id}/archive", tags=["archive"])
def check_archive(meeting_id: str, request: Request, store: StoreDep, actor: ActorDep) -> ArchiveOut:
    """Recompute every hash of the meeting's sealed archive; name what is missing or modified."""
    from transcripts.archive import verify

    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        record = session.get(t.ArchiveRecord, meeting_id)
    if record is None:
        return ArchiveOut(meeting_id=meeting_id, sealed=False, ok=False, files=0, problems=[])
    report = verify(minutes_files(request).archive_path(meeting_id), record.manifest_sha256)
    return ArchiveOut(
        meeting_id=meeting_id,
        sealed=True,
        ok=report.ok,
        files=report.files,
        problems=[{"file": p.name, "problem": p.problem, "message": p.text_vi()} for p in report.problems],
    )


# --- search -------------------------------------------------------------------------------------


class HitOut(BaseModel):
    meeting_id: str
    meeting_title: str
    meeting_date: str
    kind: str
    agenda_item_id: str | None
    agenda_title: str | None
    speaker: str | None
    start_s: float | None
    snippet_html: str
    link: str
    score: float


class SearchOut(BaseModel):
    query: str
    total: int
    hits: list[HitOut]


def _visible_meetings(store: Store, actor: Actor) -> frozenset[str] | None:
    if actor.has(Role.CLERK):
        return None
    with store.read() as session:
        ids = set(session.scalars(select(t.Participant.meeting_id).where(t.Participant.member_id == actor.member_id)))
        ids |= set(
            session.scalars(
                select(t.Meeting.id).where((t.Meeting.chair_id == actor.member_id) | (t.Meeting.secretary_id == actor.member_id))
            )
        )
    return frozenset(ids)


@router.get("/api/search", tags=["search"])
def search(
    store: StoreDep,
    actor: ActorDep,
    q: str = Query(..., max_length=300, description='Words (all must occur), "an exact phrase"; diacritics optional'),
    body_id: str | None = None,
    date_from: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
    date_to: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
    speaker: str | None = Query(None, max_length=255, description="A member id or a speaker's name"),
    agenda_item_id: str | None = None,
    poll_outcome: Literal["passed", "failed", "partial", "tie", "no_quorum", "collected"] | None = None,
    kind: Literal["transcript", "minutes"] | None = None,
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=10_000),
) -> SearchOut:
    """Search transcripts and minutes of every meeting you may see (clerks: all), ranked, with highlighted snippets."""
    query = parse_query(q)
    filters = search_index.Filters(
        body_id, date_from, date_to, speaker, agenda_item_id, poll_outcome, kind, _visible_meetings(store, actor)
    )
    with store.read() as session:
        found = search_index.search(session, query, filters, limit=limit, offset=offset)
    return SearchOut(
        query=q,
        total=found.total,
        hits=[
            HitOut(
                meeting_id=h.meeting_id,
                meeting_title=h.meeting_title,
                meeting_date=h.meeting_date,
                kind=h.kind,
                agenda_item_id=h.agenda_item_id,
                agenda_title=h.agenda_title,
                speaker=h.speaker,
                start_s=h.start_s,
                snippet_html=h.snippet_html,
                link=h.link,
                score=h.score,
            )
            for h in found.hits
        ],
    )

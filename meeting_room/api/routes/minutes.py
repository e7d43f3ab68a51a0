"""The minutes: the draft or a saved version, the secretary's edits, the PDF and the Word copy."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from meeting_room.access import get_meeting, oversees
from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep
from meeting_room.api.routes.files import DOCX, PDF, attachment, meeting_file, minutes_files, timezone_of
from meeting_room.api.routes.schemas import MAX_VERSION, Out, Version
from meeting_room.db import tables as t
from meeting_room.services import minutes as minutes_service
from transcripts.minutes import PollTable
from transcripts.word import minutes_docx

router = APIRouter(tags=["minutes"])


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


class SignatureOut(Out):
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
    closing_printed: str = Field(description="The closing sentence the documents print: the one written, else the automatic one")
    recipients: list[str]
    sections: list[SectionOut]
    attendance: dict[str, list[str]]
    signatures: list[SignatureOut]
    editable: bool = Field(description="You may save a new version now")
    can_sign: bool = Field(description="Your signature is the one the minutes wait for now")
    signing_key: str | None = Field(
        description="When you sign next, how: server (a PKCS#12 kept here), token (a USB token), none (no certificate registered), "
        "missing (its file is gone), expired or not_yet_valid"
    )
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
def get_minutes(
    meeting_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep, version: Version = None
) -> MinutesOut:
    """The minutes: the newest saved version (or the automatic draft), with polls, attendance and signatures."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        minutes_service.require_reader(session, actor, meeting, version)
        row = (
            minutes_service.version_of(session, meeting_id, version)
            if version is not None
            else minutes_service.latest_version(session, meeting_id)
        )
        minutes = minutes_service.build(session, meeting_id, row, tz=timezone_of(settings))
        versions = list(
            session.scalars(
                select(t.MinutesVersion.version).where(t.MinutesVersion.meeting_id == meeting_id).order_by(t.MinutesVersion.version)
            )
        )
        signed = minutes_service.signatures(session, meeting_id)
        if not oversees(session, actor, meeting):
            versions = versions[-1:]  # the signed record only: the drafts before it are the overseers'
        editable = minutes_service.editable(session, actor, meeting)
        can_sign = minutes_service.signs_next(session, actor, meeting)
        key = minutes_service.signing_key(session, actor, minutes_files(request), store.now()) if can_sign else None
    return MinutesOut(
        meeting_id=meeting_id,
        version=minutes.version,
        versions=versions,
        number=minutes.number,
        title=minutes.title,
        place=minutes.place,
        opening=minutes.opening,
        closing=minutes.closing,
        closing_printed=minutes.closing_sentence(),
        recipients=list(minutes.recipients),
        sections=[
            SectionOut(item_id=s.item_id, title=s.title, text=s.text, polls=[_poll_out(p) for p in s.polls]) for s in minutes.sections
        ],
        attendance={heading: [a.label() for a in people] for heading, people in minutes.attendance.groups()},
        signatures=[
            SignatureOut.model_validate(s) for s in sorted(signed.values(), key=lambda s: minutes_service.ROLE_ORDER.index(s.role))
        ],
        editable=editable,
        can_sign=can_sign,
        signing_key=key,
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
        data, signed = minutes_service.current_pdf(store, actor, meeting_id, files, tz=timezone_of(settings))
    else:
        data, signed = minutes_service.render(store, actor, meeting_id, files, tz=timezone_of(settings), version=version).pdf, False
    name = meeting_file(store, meeting_id, "bien-ban", "-da-ky.pdf" if signed else ".pdf", timezone_of(settings))
    return Response(data, media_type=PDF, headers={**attachment(name), "X-Minutes-Signed": str(signed).lower()})


@router.get("/api/meetings/{meeting_id}/minutes.docx", response_class=Response)
def minutes_word(meeting_id: str, store: StoreDep, settings: SettingsDep, actor: ActorDep, version: Version = None) -> Response:
    """The minutes as a Word document (a working copy; the signed PDF is the record)."""
    with store.read() as session:
        minutes_service.require_reader(session, actor, get_meeting(session, meeting_id), version)
        row = (
            minutes_service.version_of(session, meeting_id, version)
            if version is not None
            else minutes_service.latest_version(session, meeting_id)
        )
        minutes = minutes_service.build(session, meeting_id, row, tz=timezone_of(settings))
    return Response(
        minutes_docx(minutes),
        media_type=DOCX,
        headers=attachment(meeting_file(store, meeting_id, "bien-ban", ".docx", timezone_of(settings))),
    )

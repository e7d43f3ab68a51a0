"""The conclusion notice: the draft or a saved version, the edits, the PDF and the chair's signature."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from meeting_room.access import get_meeting
from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep, runtime_of
from meeting_room.api.routes.files import PDF, attachment, meeting_file, minutes_files, timezone_of
from meeting_room.api.routes.schemas import MAX_VERSION
from meeting_room.api.routes.signatures import SignIn
from meeting_room.services import minutes as minutes_service
from meeting_room.services import notice as notice_service

router = APIRouter(tags=["minutes"])


class NoticeItemOut(BaseModel):
    item_id: str
    title: str
    text: str


class NoticeSignatureOut(BaseModel):
    member_id: str
    version: int
    signed_at: datetime
    timestamped: bool
    pdf_sha256: str


class NoticeOut(BaseModel):
    meeting_id: str
    version: int = Field(description="0: the automatic draft, not saved yet")
    versions: list[int]
    number: str
    heading: str
    locality: str
    authority: str
    recipients: list[str]
    items: list[NoticeItemOut]
    signature: NoticeSignatureOut | None
    editable: bool = Field(description="You may save a new version now")
    can_sign: bool = Field(description="You are the chair and the notice waits for your signature")
    signing_key: str | None = Field(
        None,
        description="When you may sign, how your key is kept: server (a PKCS#12 here: the notice is signed with it), token "
        "(a USB token, which the notice cannot use), none, missing, expired or not_yet_valid",
    )
    state: str


@router.get("/api/meetings/{meeting_id}/notice")
def get_notice(meeting_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> NoticeOut:
    """The conclusion notice: the newest saved version (or the draft from the minutes and the polls), and its signature."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        notice_service.require_reader(session, actor, meeting)
        saved = notice_service.versions(session, meeting_id)
        notice = notice_service.build(session, meeting_id, saved[-1] if saved else None, tz=timezone_of(settings), today=store.now())
        signed = notice_service.signature(session, meeting_id)
        editable = notice_service.editable(session, actor, meeting)
        can_sign = notice_service.signable(session, actor, meeting)
        # said before a passphrase is asked (a walk-through's chair typed one to learn there was no certificate)
        key = minutes_service.signing_key(session, actor, minutes_files(request), store.now()) if can_sign else None
    return NoticeOut(
        meeting_id=meeting_id,
        version=notice.version,
        versions=[v.version for v in saved],
        number=notice.number,
        heading=notice.heading(),
        locality=notice.locality,
        authority=notice.authority,
        recipients=list(notice.recipients),
        items=[NoticeItemOut(item_id=i.item_id, title=i.title, text=i.text) for i in notice.items],
        signature=NoticeSignatureOut(
            member_id=signed.payload.member_id,
            version=signed.payload.version,
            signed_at=signed.signed_at,
            timestamped=signed.payload.timestamped,
            pdf_sha256=signed.payload.pdf_sha256,
        )
        if signed
        else None,
        editable=editable,
        can_sign=can_sign,
        signing_key=key,
        state=meeting.state,
    )


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_version: int | None = Field(
        None, ge=0, le=MAX_VERSION, description="The version the edit started from; a newer saved version refuses the save."
    )
    number: str | None = Field(None, max_length=32)
    locality: str | None = Field(None, max_length=255)
    authority: str | None = Field(None, max_length=255)
    recipients: list[str] | None = Field(None, max_length=50)
    items: dict[str, str] | None = Field(None, description="agenda item id -> the chair's conclusion")


@router.put("/api/meetings/{meeting_id}/notice")
def save_notice(meeting_id: str, body: NoticeIn, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> dict[str, int]:
    """Save an edit of the notice as a new version (every version is kept)."""
    edit = notice_service.NoticeEdit(body.items, body.number, body.locality, body.authority, body.recipients)
    version = notice_service.save_version(store, actor, meeting_id, edit, tz=timezone_of(settings), base_version=body.base_version)
    return {"version": version}


@router.get("/api/meetings/{meeting_id}/notice.pdf", response_class=Response)
def notice_pdf(meeting_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> Response:
    """The notice as PDF: the signed file once signed, else a rendering of the newest version."""
    data, signed = notice_service.current_pdf(store, actor, meeting_id, minutes_files(request), tz=timezone_of(settings))
    name = meeting_file(store, meeting_id, "thong-bao-ket-luan", "-da-ky.pdf" if signed else ".pdf", timezone_of(settings))
    return Response(data, media_type=PDF, headers={**attachment(name), "X-Notice-Signed": str(signed).lower()})


class NoticeSignOut(BaseModel):
    version: int
    pdf_sha256: str
    timestamped: bool


@router.post("/api/meetings/{meeting_id}/notice/sign")
def sign_notice(meeting_id: str, body: SignIn, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> NoticeSignOut:
    """The chair signs the notice with their registered certificate (the server-side PKCS#12, as the minutes)."""
    client = request.client.host if request.client else "?"
    done = notice_service.sign(
        store, actor, meeting_id, body.passphrase, minutes_files(request), tz=timezone_of(settings),
        throttle=runtime_of(request).login_throttle, client=client,
    )  # fmt: skip
    return NoticeSignOut(version=done.version, pdf_sha256=done.pdf_sha256, timestamped=done.timestamped)

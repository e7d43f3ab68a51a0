"""Log in and out; who am I."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from starlette.requests import Request

from meeting_room import auth
from meeting_room.access import StandingPermissions, standing_permissions
from meeting_room.api.deps import SESSION_COOKIE, ActorDep, SettingsDep, StoreDep, poke_sessions, runtime_of, token_of
from meeting_room.api.routes.schemas import MemberOut, member_out
from meeting_room.db import tables as t
from meeting_room.files import recordings
from meeting_room.live import face_runtime, speech_runtime
from speech.diarization import DiarizationOptions

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime
    member: MemberOut
    must_change_password: bool = Field(
        description="Logged in with a temporary password: every other call is refused (403) until it is changed"
    )


@router.post("/login")
def login(body: LoginIn, request: Request, response: Response, store: StoreDep, settings: SettingsDep) -> LoginOut:
    """Log in with username and password; sets the session cookie and returns a bearer token.

    After three failures for one username from one address, each further try from there waits
    (1 s, 2 s, 4 s … up to 15 minutes; 429 says how long); one address may fail 30 times in 15
    minutes. A username is never locked as such (``auth.LoginThrottle``)."""
    client = request.client.host if request.client else "?"
    result = auth.login(
        store, body.username, body.password, hours=settings.session_hours, throttle=runtime_of(request).login_throttle, client=client
    )
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    with store.read() as session:
        member = session.get_one(t.Member, result.actor.member_id)
    return LoginOut(
        token=result.token, expires_at=result.expires_at, member=member_out(member), must_change_password=result.actor.must_change_password
    )


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, store: StoreDep, actor: ActorDep) -> Response:
    """End this session (the cookie or bearer token stops working; its open sockets close)."""
    token = token_of(request)
    if token:
        auth.logout(store, token)
        poke_sessions(request)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


class UploadLimitsOut(BaseModel):
    """The largest uploads the server takes, in MB: a page refuses a larger file before sending it."""

    document_mb: int
    photo_mb: int
    recording_mb: int
    face_import_mb: int
    recording_formats: str = Field(description="What a recording may be, in Vietnamese")
    recording_formats_en: str
    recording_hours: int = Field(description="The longest recording an upload may hold")
    diarization_hours: float = Field(description="The longest recording whose speakers are told apart by voice")
    voice_min_speech_s: float = Field(description="The speech a voice sample must hold at least")
    face_min_px: int = Field(description="The smallest face, in pixels, an enrolment photo may show")


class MeOut(MemberOut):
    can: StandingPermissions = Field(description="What you may do across meetings (the pages' navigation)")
    must_change_password: bool = Field(False, description="This session may do nothing but change its temporary password")
    upload_limits: UploadLimitsOut | None = None
    only_meeting: str | None = Field(None, description="A session from an invitation link to this meeting: it follows it, it does not vote")


@router.get("/me")
def me(store: StoreDep, settings: SettingsDep, actor: ActorDep) -> MeOut:
    """The logged-in member, with what they may do across meetings and the upload limits."""
    with store.read() as session:
        member = member_out(session.get_one(t.Member, actor.member_id))
    limits = UploadLimitsOut(document_mb=settings.max_upload_mb, photo_mb=settings.max_photo_mb, recording_mb=settings.max_recording_mb,
                             face_import_mb=settings.max_face_import_mb, recording_formats=recordings.ACCEPTED_VI,
                             recording_formats_en=recordings.ACCEPTED, recording_hours=recordings.MAX_HOURS,
                             diarization_hours=DiarizationOptions().max_duration_s / 3600,
                             voice_min_speech_s=speech_runtime.voice_rules(settings).min_speech_s,
                             face_min_px=face_runtime.enrolment_rules(settings).min_face_px)  # fmt: skip
    return MeOut(**member.model_dump(), can=standing_permissions(actor), must_change_password=actor.must_change_password,
                 upload_limits=limits, only_meeting=actor.only_meeting)  # fmt: skip

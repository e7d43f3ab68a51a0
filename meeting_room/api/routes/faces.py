"""Biometric consent and face enrolment of members, and check-in from a photo."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep, runtime_of
from meeting_room.api.routes.schemas import Out
from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError, PermissionDeniedError
from meeting_room.live.face_runtime import enrolment_rules, match_options
from meeting_room.services import face_attendance, faces
from meeting_room.services.lookup import fetch
from meeting_room.text import LongText
from vision.faces import FaceEngine
from vision.image import decode_image

router = APIRouter(tags=["faces"])


def _photo_schema(field: str, description: str, many: bool) -> dict[str, object]:
    item = {"type": "string", "format": "binary"}
    prop = {"type": "array", "items": item} if many else item
    schema = {"type": "object", "required": [field], "properties": {field: {**prop, "description": description}}}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    given: bool
    note: LongText | None = None


class FaceOut(BaseModel):
    face_id: str
    enrolled_at: datetime


class VoiceOut(BaseModel):
    voice_id: str
    speech_s: float
    enrolled_at: datetime


class BiometricsOut(BaseModel):
    member_id: str
    consent: bool
    consent_at: datetime | None
    consent_note: str | None = Field(None, description="The signed consent form it rests on (its number, date)")
    faces: list[FaceOut]
    voices: list[VoiceOut] = []


class EnrolledOut(BaseModel):
    face_id: str
    photo: str
    face_px: int
    sharpness: float


class RecognisedOut(Out):
    member_id: str
    full_name: str
    confidence: float
    recorded: bool


class CheckInOut(Out):
    faces: int
    recognised: list[RecognisedOut]
    unknown: int


def face_engine(request: Request) -> FaceEngine:
    """The server process's one engine, loaded on first use."""
    return runtime_of(request).face_engine()


async def _photos(request: Request, field: str, limit: int) -> list[tuple[str, bytes]]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInputError(
            f"Hãy gửi ảnh dạng multipart/form-data, trường “{field}”",
            f"Send the photo(s) as multipart/form-data in the field '{field}'",
            accepted="multipart/form-data",
        )
    out = []
    async with request.form(max_files=limit, max_fields=limit + 2) as form:
        for upload in form.getlist(field):
            if isinstance(upload, UploadFile):
                out.append((upload.filename or "ảnh", await upload.read()))
    if not out:
        raise InvalidInputError(f"Thiếu trường “{field}” chứa ảnh", f"The form has no '{field}' field with a photo", field=field)
    return out


def _biometrics(store: StoreDep, actor: ActorDep, member_id: str) -> BiometricsOut:
    if actor.member_id != member_id and not actor.has():
        raise PermissionDeniedError("Bạn chỉ xem được dữ liệu của chính mình", "You may only see your own biometric data")
    with store.read() as session:
        member = fetch(session, t.Member, member_id)
        rows = session.scalars(select(t.FaceEncoding).where(t.FaceEncoding.member_id == member_id).order_by(t.FaceEncoding.created_at))
        voices = session.scalars(select(t.VoicePrint).where(t.VoicePrint.member_id == member_id).order_by(t.VoicePrint.created_at))
        return BiometricsOut(
            member_id=member_id,
            consent=member.biometric_consent,
            consent_at=member.biometric_consent_at,
            consent_note=member.biometric_consent_note,
            faces=[FaceOut(face_id=r.id, enrolled_at=r.created_at) for r in rows],
            voices=[VoiceOut(voice_id=v.id, speech_s=v.speech_s, enrolled_at=v.created_at) for v in voices],
        )


@router.get("/api/members/{member_id}/biometrics")
def get_biometrics(member_id: str, store: StoreDep, actor: ActorDep) -> BiometricsOut:
    """Consent, enrolled faces and voiceprints of a member (an administrator, or the member)."""
    return _biometrics(store, actor, member_id)


@router.put("/api/members/{member_id}/biometric-consent")
def put_consent(member_id: str, body: ConsentIn, store: StoreDep, actor: ActorDep) -> BiometricsOut:
    """Record consent to face and voice processing, or withdraw it (which deletes the data)."""
    faces.set_consent(store, actor, member_id, body.given, body.note)
    return _biometrics(store, actor, member_id)


@router.delete("/api/members/{member_id}/biometrics")
def delete_biometrics(member_id: str, store: StoreDep, actor: ActorDep) -> BiometricsOut:
    """Delete every enrolled face and voiceprint of the member (consent stays as recorded)."""
    faces.delete_biometrics(store, actor, member_id)
    return _biometrics(store, actor, member_id)


@router.post(
    "/api/members/{member_id}/faces", status_code=201, openapi_extra=_photo_schema("photo", "1-10 JPEG/PNG photos, one face each", True)
)
async def enrol(member_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> list[EnrolledOut]:
    """Enrol face photos (an administrator; the member must have consented). All are stored, or none."""
    await run_in_threadpool(faces.may_enrol_faces, store, actor, member_id)  # before the upload is read
    photos = await _photos(request, "photo", faces.MAX_PHOTOS)
    engine = await run_in_threadpool(face_engine, request)
    done = await run_in_threadpool(faces.enrol_faces, store, actor, member_id, photos, engine, enrolment_rules(settings))
    return [EnrolledOut(face_id=d.face_id, photo=d.name, face_px=d.face_px, sharpness=round(d.sharpness, 1)) for d in done]


@router.post(
    "/api/meetings/{meeting_id}/attendance/face", openapi_extra=_photo_schema("photo", "A photo of the room or of one person", False)
)
async def check_in(meeting_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> CheckInOut:
    """Mark present the participants recognised on a photo (chair, secretary, clerk)."""
    await run_in_threadpool(face_attendance.may_check_in, store, actor, meeting_id)  # before the upload is read
    ((name, data),) = await _photos(request, "photo", 1)
    image = await run_in_threadpool(decode_image, data, name=name)
    engine = await run_in_threadpool(face_engine, request)
    options = match_options(settings)
    r = await run_in_threadpool(face_attendance.check_in_snapshot, store, actor, meeting_id, image, engine, options)
    return CheckInOut.model_validate(r)

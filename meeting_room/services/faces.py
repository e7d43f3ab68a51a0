"""Biometric consent, face enrolment and deletion, and the gallery a camera matches against.

Face encodings are sensitive personal data (Decree 13/2023/NĐ-CP): they are stored only with the
member's recorded consent, in a table outside the append-only log (the log records only that a
face was enrolled), and deleted when consent is withdrawn or the member is deactivated.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, require_roles
from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError, PermissionDeniedError
from meeting_room.services.consent import consented, require_consent
from meeting_room.services.lookup import fetch
from meeting_room.store import Decided, Store
from vision.enrolment import EnrolledFace, EnrolmentRules, enrol_photo
from vision.faces import FaceEngine
from vision.gallery import Gallery
from vision.image import decode_photo

MAX_PHOTOS = 10


def set_consent(store: Store, actor: Actor, member_id: str, given: bool, note: str | None = None) -> None:
    """Record consent (an admin, from the signed form; or the member themselves) or its withdrawal,
    which deletes the member's biometric data in the same transaction."""
    if actor.member_id != member_id and not actor.has():
        raise PermissionDeniedError(
            "Chỉ quản trị viên hoặc chính thành viên mới ghi nhận được sự đồng ý",
            "Only an administrator or the member themselves can record consent",
        )

    def decide(session: Session) -> list[ev.EventPayload]:
        fetch(session, t.Member, member_id)
        out: list[ev.EventPayload] = [ev.BiometricConsent(member_id=member_id, given=given, note=note)]
        if not given:
            out += erase(session, member_id, "consent_withdrawn")
        return out

    store.append_all(decide, actor_id=actor.member_id)


def erase(session: Session, member_id: str, reason: str) -> list[ev.EventPayload]:
    """Delete a member's face encodings and voiceprints; the event says how many of each."""
    faces = session.scalar(select(func.count()).select_from(t.FaceEncoding).where(t.FaceEncoding.member_id == member_id)) or 0
    voices = session.scalar(select(func.count()).select_from(t.VoicePrint).where(t.VoicePrint.member_id == member_id)) or 0
    member = session.get(t.Member, member_id)
    if faces == 0 and voices == 0 and (member is None or not (member.faces_enrolled or member.voices_enrolled)):
        return []
    session.execute(delete(t.FaceEncoding).where(t.FaceEncoding.member_id == member_id))
    session.execute(delete(t.VoicePrint).where(t.VoicePrint.member_id == member_id))
    return [ev.BiometricsDeleted(member_id=member_id, reason=reason, faces=faces, voices=voices)]


def delete_biometrics(store: Store, actor: Actor, member_id: str) -> int:
    """Delete on request (an administrator, or the member); returns how many faces were deleted."""
    if actor.member_id != member_id and not actor.has():
        raise PermissionDeniedError("Bạn chỉ có thể xóa dữ liệu sinh trắc của chính mình", "You may only delete your own biometric data")

    def decide(session: Session) -> Decided[int]:
        fetch(session, t.Member, member_id)
        out = erase(session, member_id, "requested")
        return Decided(out, sum(e.faces for e in out if isinstance(e, ev.BiometricsDeleted)))

    return store.decide(decide, actor_id=actor.member_id)[1]


@dataclass(frozen=True)
class EnrolledPhoto:
    face_id: str
    name: str
    face_px: int
    sharpness: float


def may_enrol_faces(store: Store, actor: Actor, member_id: str) -> None:
    """Refuse (403/404/409) before a photo is even read: an administrator, for a member who has consented."""
    require_roles(actor, action_vi="đăng ký khuôn mặt", action_en="enrol faces")
    with store.read() as session:
        require_consent(fetch(session, t.Member, member_id))


def enrol_faces(
    store: Store, actor: Actor, member_id: str, photos: list[tuple[str, bytes]], engine: FaceEngine, rules: EnrolmentRules
) -> list[EnrolledPhoto]:
    """Enrol one or more photos (an administrator). Every photo is checked first; then all are
    stored together, or none (a refused photo names itself and the reason)."""
    may_enrol_faces(store, actor, member_id)
    if not photos:
        raise InvalidInputError("Chưa có ảnh nào", "No photo was given", accepted="1 to 10 JPEG/PNG photos")
    if len(photos) > MAX_PHOTOS:
        raise InvalidInputError(f"Tối đa {MAX_PHOTOS} ảnh mỗi lần", f"At most {MAX_PHOTOS} photos at a time", received=len(photos))
    faces = [(name, check_photo(engine, name, data, rules)) for name, data in photos]  # CPU-heavy: outside the store's lock

    def decide(session: Session) -> list[ev.EventPayload]:
        return add_faces(store, session, member_id, [face for _name, face in faces])

    stored = store.append_all(decide, actor_id=actor.member_id)
    return [EnrolledPhoto(e.data["face_id"], name, face.face_px, face.sharpness) for e, (name, face) in zip(stored, faces, strict=True)]


def check_photo(engine: FaceEngine, name: str, data: bytes, rules: EnrolmentRules) -> EnrolledFace:
    """One face found, large and sharp enough, in a photo; ``VisionError`` saying what was wrong."""
    image, scale = decode_photo(data, name=name)

    def closer(region: tuple[int, int, int, int]) -> np.ndarray:
        return decode_photo(data, name=name, region=region)[0]

    return enrol_photo(engine, image, rules, name=name, scale=scale, closer=closer)


def add_faces(store: Store, session: Session, member_id: str, faces: list[EnrolledFace]) -> list[ev.EventPayload]:
    """Inside a decision: store checked faces of a member who still consents (it may have been withdrawn meanwhile)."""
    require_consent(fetch(session, t.Member, member_id))
    out: list[ev.EventPayload] = []
    for face in faces:
        face_id = str(uuid.uuid4())
        session.add(
            t.FaceEncoding(id=face_id, member_id=member_id, encoding=np.asarray(face.encoding, "<f8").tobytes(), created_at=store.now())
        )
        out.append(ev.FaceEnrolled(member_id=member_id, face_id=face_id, face_px=face.face_px, sharpness=round(face.sharpness, 1)))
    return out


def gallery_for(session: Session, member_ids: list[str] | None = None) -> Gallery:
    """Enrolled faces of consenting, active members (of ``member_ids`` when given)."""
    return Gallery((m, np.frombuffer(blob, "<f8")) for m, blob in consented(session, t.FaceEncoding, t.FaceEncoding.encoding, member_ids))


def meeting_gallery(session: Session, meeting_id: str) -> Gallery:
    ids = list(session.scalars(select(t.Participant.member_id).where(t.Participant.meeting_id == meeting_id)))
    return gallery_for(session, ids)

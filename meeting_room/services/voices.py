"""Voice enrolment and the voiceprint gallery that names speakers in transcripts.

Voiceprints are biometric data, kept like face encodings (``services.faces``): only with the
member's recorded consent, outside the append-only log, deleted with the consent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor
from meeting_room.db import tables as t
from meeting_room.errors import PermissionDeniedError
from meeting_room.services.consent import consented, require_consent
from meeting_room.services.lookup import fetch
from meeting_room.store import Store
from speech.voiceprint import VoiceEncoder, VoiceGallery, VoiceRules


@dataclass(frozen=True)
class EnrolledVoice:
    voice_id: str
    speech_s: float
    level_db: float


def may_enrol_voice(store: Store, actor: Actor, member_id: str) -> None:
    """Refuse (403/404/409) before a reading is even read: an administrator or the member, who has consented."""
    if actor.member_id != member_id and not actor.has():
        raise PermissionDeniedError(
            "Chỉ quản trị viên hoặc chính thành viên mới đăng ký được giọng nói", "Only an administrator or the member can enrol a voice"
        )
    with store.read() as session:
        require_consent(fetch(session, t.Member, member_id))


def enrol_voice(store: Store, actor: Actor, member_id: str, audio: np.ndarray, encoder: VoiceEncoder, rules: VoiceRules) -> EnrolledVoice:
    """Enrol a reading (an administrator, or the member themselves) as a voiceprint."""
    may_enrol_voice(store, actor, member_id)
    voice = encoder.enrol(audio, rules)  # CPU-heavy: outside the store's lock
    voice_id = str(uuid.uuid4())

    def decide(session: Session) -> list[ev.EventPayload]:
        require_consent(fetch(session, t.Member, member_id))  # consent may have been withdrawn meanwhile
        blob = np.asarray(voice.embedding, "<f4").tobytes()
        session.add(t.VoicePrint(id=voice_id, member_id=member_id, embedding=blob, speech_s=voice.speech_s, created_at=store.now()))
        return [ev.VoiceEnrolled(member_id=member_id, voice_id=voice_id, speech_s=voice.speech_s, level_db=voice.level_db)]

    store.append_all(decide, actor_id=actor.member_id)
    return EnrolledVoice(voice_id, voice.speech_s, voice.level_db)


def voice_gallery(session: Session, member_ids: list[str] | None = None, threshold: float = 0.5, margin: float = 0.08) -> VoiceGallery:
    """Voiceprints of consenting, active members (of ``member_ids`` when given)."""
    prints: dict[str, list[np.ndarray]] = {}
    for member_id, blob in consented(session, t.VoicePrint, t.VoicePrint.embedding, member_ids):
        prints.setdefault(member_id, []).append(np.frombuffer(blob, "<f4"))
    return VoiceGallery.build(prints, threshold, margin)


def member_names(session: Session, member_ids: list[str] | None = None) -> dict[str, str]:
    query = select(t.Member.id, t.Member.full_name)
    if member_ids is not None:
        query = query.where(t.Member.id.in_(member_ids))
    return {member_id: name for member_id, name in session.execute(query)}

"""The one biometric consent rule: faces and voiceprints of a member are read only while the member
is active and has consented, whichever gallery reads them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import insert

from meeting_room import events as ev
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError
from meeting_room.services import faces, members
from meeting_room.services.consent import consented, require_consent
from meeting_room.services.voices import voice_gallery
from tests.conftest import World


def _stored(world: World, *who: str) -> None:
    """A face and a voiceprint for each, written straight to the tables (as if left behind)."""
    now = datetime.now(UTC)
    with world.store.engine.begin() as conn:
        for username in who:
            member_id = world.ids[username]
            face = np.full(128, 0.1, "<f8").tobytes()
            voice = np.full(192, 0.1, "<f4").tobytes()
            conn.execute(insert(t.FaceEncoding).values(id=str(uuid.uuid4()), member_id=member_id, encoding=face, created_at=now))
            conn.execute(
                insert(t.VoicePrint).values(id=str(uuid.uuid4()), member_id=member_id, embedding=voice, speech_s=9.0, created_at=now)
            )


def test_only_active_consenting_members_are_read_from_either_table(world: World) -> None:
    admin = world.actor("admin")
    faces.set_consent(world.store, admin, world.ids["member1"], True)
    faces.set_consent(world.store, admin, world.ids["member2"], True)
    members.update_member(world.store, admin, ev.MemberUpdated(member_id=world.ids["member2"], active=False))
    _stored(world, "member1", "member2", "chair")  # member2 disabled, the chair never consented
    with world.store.read() as session:
        assert {m for m, _ in consented(session, t.FaceEncoding, t.FaceEncoding.encoding)} == {world.ids["member1"]}
        assert {m for m, _ in consented(session, t.VoicePrint, t.VoicePrint.embedding)} == {world.ids["member1"]}
        assert consented(session, t.VoicePrint, t.VoicePrint.embedding, [world.ids["chair"]]) == []
        assert faces.gallery_for(session).members == {world.ids["member1"]}
        assert len(voice_gallery(session)) == 1


def test_enrolment_is_refused_without_consent_or_for_a_disabled_member(world: World) -> None:
    admin = world.actor("admin")
    with world.store.read() as session:
        with pytest.raises(ConflictError, match="Nghị định 13/2023"):
            require_consent(session.get_one(t.Member, world.ids["member1"]))
    faces.set_consent(world.store, admin, world.ids["member1"], True)
    members.update_member(world.store, admin, ev.MemberUpdated(member_id=world.ids["member1"], active=False))
    with world.store.read() as session:
        with pytest.raises(ConflictError, match="disabled"):
            require_consent(session.get_one(t.Member, world.ids["member1"]))

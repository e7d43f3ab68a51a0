"""Revoking an invitation link: the decision that revokes it also says whose it was; a link revoked
while it is being opened opens nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from meeting_room import auth
from meeting_room.db import tables as t
from meeting_room.errors import AuthenticationError, ConflictError, NotFoundError
from meeting_room.services import invitations
from tests.conftest import World, snapshot


def test_revoking_a_link_says_whose_it_was_once(world: World) -> None:
    chair = world.actor("chair")
    link = invitations.create(world.store, chair, world.meeting_id, world.ids["member2"], hours=2)
    assert invitations.revoke(world.store, chair, world.meeting_id, link.id) == world.ids["member2"]
    assert [e.data["invitation_id"] for e in world.store.events() if e.type == "meeting.invitation_revoked"] == [link.id]
    before = snapshot(world.store)
    with pytest.raises(ConflictError):
        invitations.revoke(world.store, chair, world.meeting_id, link.id)
    with pytest.raises(NotFoundError):
        invitations.revoke(world.store, chair, world.meeting_id, "no-such-link")
    assert snapshot(world.store) == before


def _sessions_of(world: World, who: str) -> list[str]:
    with world.store.read() as session:
        return list(session.scalars(select(t.AuthSession.token_hash).where(t.AuthSession.member_id == world.ids[who])))


def test_a_link_revoked_while_it_is_being_opened_opens_no_session(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening reads the link, then decides: the revocation here comes in between. The session is
    written in the decision that uses the link, so it is refused (before, the session was written
    after the decision, and one opened as the link was revoked stayed valid until the link expired)."""
    chair = world.actor("chair")
    link = invitations.create(world.store, chair, world.meeting_id, world.ids["member2"], hours=2)
    decide = world.store.decide

    def revoked_in_between(decision: Any, **kw: Any) -> Any:
        monkeypatch.setattr(world.store, "decide", decide)
        invitations.revoke(world.store, chair, world.meeting_id, link.id)
        return decide(decision, **kw)

    monkeypatch.setattr(world.store, "decide", revoked_in_between)
    with pytest.raises(NotFoundError):
        invitations.redeem(world.store, link.token, session_hours=8)
    assert _sessions_of(world, "member2") == []
    assert not any(e.type == "meeting.invitation_used" for e in world.store.events())

    other = invitations.create(world.store, chair, world.meeting_id, world.ids["member2"], hours=2)
    opened, meeting_id = invitations.redeem(world.store, other.token, session_hours=8)
    assert opened is not None and meeting_id == world.meeting_id
    assert auth.resolve(world.store, opened.token).only_meeting == world.meeting_id  # the session the link opened works
    invitations.revoke(world.store, chair, world.meeting_id, other.id)
    with pytest.raises(AuthenticationError):
        auth.resolve(world.store, opened.token)  # and ends with the link

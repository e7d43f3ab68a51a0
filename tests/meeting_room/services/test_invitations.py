"""Revoking an invitation link: the decision that revokes it also says whose it was."""

from __future__ import annotations

import pytest

from meeting_room.errors import ConflictError, NotFoundError
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

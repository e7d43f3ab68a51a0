"""The hall's view read once per change for every screen, and the display link as a credential."""

from __future__ import annotations

import pytest

from meeting_room import auth
from meeting_room.db import tables as t
from meeting_room.errors import AuthenticationError
from meeting_room.lifecycle import MeetingState
from meeting_room.services import hall, invitations, meetings
from tests.conftest import World


def test_the_shared_view_is_read_again_only_after_the_meeting_changes(world: World) -> None:
    views = hall.SharedViews()
    with world.store.read() as session:
        first = views.view(session, world.meeting_id)
    with world.store.read() as session:
        again = views.view(session, world.meeting_id)
    assert again.quorum is first.quorum and again.now >= first.now  # the same read, a fresh clock
    meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.OPEN)
    with world.store.read() as session:
        after = views.view(session, world.meeting_id)
    assert after.state is MeetingState.OPEN and after.quorum is not first.quorum


def test_a_display_link_is_a_credential_for_its_meeting_only_and_a_members_link_is_not_one(world: World) -> None:
    display = invitations.create_display(world.store, world.actor("secretary"), world.meeting_id, hours=1)
    actor = auth.resolve(world.store, display.token)
    assert (actor.display, actor.only_meeting, actor.roles) == (True, world.meeting_id, frozenset())
    personal = invitations.create(world.store, world.actor("chair"), world.meeting_id, world.ids["member1"], hours=1)
    with pytest.raises(AuthenticationError):
        auth.resolve(world.store, personal.token)  # a member's link opens a session through /join, never by itself
    invitations.revoke(world.store, world.actor("chair"), world.meeting_id, display.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        auth.resolve(world.store, display.token)
    assert [row.id for row in _displays(world)] == [display.id]


def _displays(world: World) -> list[t.Invitation]:
    with world.store.read() as session:
        return invitations.listed(session, world.meeting_id, displays=True)

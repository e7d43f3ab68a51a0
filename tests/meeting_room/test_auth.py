"""Many sessions resolved in one read, by the same rule as one (on SQLite and PostgreSQL); a log-in
racing a password change opens no session that outlives the change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meeting_room import auth
from meeting_room import events as ev
from meeting_room.db import tables as t
from meeting_room.errors import AuthenticationError
from meeting_room.roles import Role
from meeting_room.services import members
from tests.conftest import PASSWORD, World


def _open(world: World, who: str, **extra: Any) -> str:
    with world.store.read() as session:
        member = session.get_one(t.Member, world.ids[who])
    return auth.open_session(world.store, member, datetime.now(UTC) + timedelta(hours=1), **extra).token


def test_resolve_hashes_agrees_with_resolve(any_world: World) -> None:
    world = any_world
    kept, invited, logged_out, expired, disabled = (
        _open(world, "member1"), _open(world, "member2", meeting_id=world.meeting_id), _open(world, "chair"),
        _open(world, "secretary"), _open(world, "clerk"),
    )  # fmt: skip
    auth.logout(world.store, logged_out)
    with world.store.read() as session, session.begin():
        session.get_one(t.AuthSession, auth.token_hash(expired)).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    admin = world.actor("admin")
    members.update_member(world.store, admin, ev.MemberUpdated(member_id=world.ids["member1"], roles=[Role.GUEST]))
    with world.store.read() as session, session.begin():  # disabled without ending its sessions (another code path)
        session.get_one(t.Member, world.ids["clerk"]).active = False
    tokens = [kept, invited, logged_out, expired, disabled]
    found = auth.resolve_hashes(world.store, [auth.token_hash(x) for x in tokens])
    for token in tokens:
        result = found[auth.token_hash(token)]
        try:
            one = auth.resolve(world.store, token)
        except AuthenticationError as exc:
            assert isinstance(result, AuthenticationError) and result.message_en == exc.message_en
        else:
            assert isinstance(result, auth.Resolved) and result.actor == one
    kept_actor = found[auth.token_hash(kept)]
    assert isinstance(kept_actor, auth.Resolved) and kept_actor.actor.roles == {Role.GUEST}  # the roles of now
    invited_actor = found[auth.token_hash(invited)]
    assert isinstance(invited_actor, auth.Resolved) and invited_actor.actor.only_meeting == world.meeting_id
    assert [isinstance(found[auth.token_hash(x)], AuthenticationError) for x in tokens] == [False, False, True, True, True]
    assert auth.resolve_hashes(world.store, []) == {}


def test_a_password_changed_while_a_log_in_checks_the_old_one_opens_no_session(any_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking a password takes tens of milliseconds (argon2); the member changes it meanwhile, which
    ends every session they have. The log-in that checked the old one must not then open one that
    outlives the change (found by an attacker's probe: 2 of 11 such log-ins kept working for 12 h)."""
    world = any_world
    checked = auth.verify_password
    member = world.actor("member1")

    def changed_meanwhile(password_hash: str | None, password: str) -> bool:
        ok = checked(password_hash, password)
        monkeypatch.setattr(auth, "verify_password", checked)
        members.change_password(world.store, member, member.member_id, "mot mat khau moi that dai 2026", PASSWORD)
        return ok

    monkeypatch.setattr(auth, "verify_password", changed_meanwhile)
    with pytest.raises(AuthenticationError) as refused:
        auth.login(world.store, "member1", PASSWORD, hours=1)
    assert refused.value.message_en.startswith("The password was changed during the log-in")
    with world.store.read() as session:
        assert session.query(t.AuthSession).filter_by(member_id=member.member_id).count() == 0
    assert auth.login(world.store, "member1", "mot mat khau moi that dai 2026", hours=1).actor.member_id == member.member_id

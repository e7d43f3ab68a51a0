"""Members: people with a name, a title, standing roles and (optionally) a login."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import auth
from meeting_room import events as ev
from meeting_room.access import Actor, require_roles
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, PermissionDeniedError
from meeting_room.roles import Role
from meeting_room.services import faces
from meeting_room.services.lookup import fetch
from meeting_room.store import Store


def _username_free(session: Session, username: str | None, except_id: str | None = None) -> None:
    if username is None:
        return
    other = session.scalar(select(t.Member).where(t.Member.username == username))
    if other is not None and other.id != except_id:
        raise ConflictError(f"Tên đăng nhập “{username}” đã được dùng", f"Username {username!r} is taken", username=username)


def store_password(session: Session, member_id: str, password_hash: str, *, temporary: bool = False) -> None:
    """Keep a password hash (``temporary``: to be changed at the next log-in); within the caller's write."""
    cred = session.get(t.Credential, member_id)
    now = datetime.now(UTC)
    if cred is None:
        session.add(t.Credential(member_id=member_id, password_hash=password_hash, updated_at=now, must_change=temporary))
    else:
        cred.password_hash, cred.updated_at, cred.must_change = password_hash, now, temporary


_NEEDS_LOGIN = (
    "Cần tên đăng nhập và mật khẩu ban đầu để thêm thành viên",
    "A username and an initial password are needed to add a member",
)


def create_member(
    store: Store,
    actor: Actor | None,
    *,
    full_name: str,
    roles: list[Role],
    username: str | None,
    password: str | None = None,
    password_hash: str | None = None,
    body_id: str | None = None,
    title: str | None = None,
    email: str | None = None,
) -> str:
    """Create a member who can log in: a ``username`` and a ``password`` (checked against the policy)
    or its ``password_hash`` are required. ``actor=None``: the system itself."""
    if actor is not None:
        require_roles(actor, action_vi="thêm thành viên", action_en="add members")
    if not username or (password is None) == (password_hash is None):
        field = "username" if not username else "password"
        raise InvalidInputError(*_NEEDS_LOGIN, field=field)
    payload = ev.MemberCreated(
        member_id=str(uuid.uuid4()), body_id=body_id, full_name=full_name, title=title, roles=roles, username=username, email=email
    )
    if password is not None:
        password_hash = auth.hash_password(password, (payload.username or "", full_name, title or ""))
    assert password_hash is not None  # exactly one of the two was given

    def decide(session: Session) -> list[ev.EventPayload]:
        if payload.body_id is not None:
            fetch(session, t.Body, payload.body_id)
        _username_free(session, payload.username)
        store_password(session, payload.member_id, password_hash)  # same transaction as the events
        return [payload, ev.MemberPasswordSet(member_id=payload.member_id)]

    store.append_all(decide, actor_id=actor.member_id if actor else None)
    return payload.member_id


def update_member(store: Store, actor: Actor, payload: ev.MemberUpdated) -> None:
    require_roles(actor, action_vi="sửa thông tin thành viên", action_en="edit members")
    if payload.member_id == actor.member_id and payload.active is False:
        raise ConflictError("Không thể tự khóa tài khoản của chính mình", "You cannot disable your own account")

    def decide(session: Session) -> list[ev.EventPayload]:
        fetch(session, t.Member, payload.member_id)
        if payload.body_id is not None:
            fetch(session, t.Body, payload.body_id)
        _username_free(session, payload.username, payload.member_id)
        if payload.roles is not None and Role.ADMIN not in payload.roles:
            _keep_one_admin(session, payload.member_id)
        if payload.active is False:  # deactivation is how a member leaves: their biometric data goes
            return [payload, *faces.erase(session, payload.member_id, "member_deactivated")]
        return [payload]

    store.append_all(decide, actor_id=actor.member_id)
    if payload.active is False:
        auth.end_sessions(store, payload.member_id)


def _keep_one_admin(session: Session, losing_id: str) -> None:
    admins = [m for m in session.scalars(select(t.Member).where(t.Member.active.is_(True))) if Role.ADMIN.value in m.roles]
    if [m.id for m in admins] == [losing_id]:
        raise ConflictError(
            "Đây là quản trị viên cuối cùng; hãy chỉ định quản trị viên khác trước",
            "This is the last administrator; appoint another one first",
        )


def change_password(
    store: Store,
    actor: Actor,
    member_id: str,
    new: str,
    current: str | None = None,
    *,
    throttle: auth.LoginThrottle | None = None,
    client: str = "?",
) -> None:
    """Admins reset anyone else's password; everyone, admins included, changes their own by giving
    the current one (a wrong one is throttled like a log-in). A temporary password cannot be kept."""
    if member_id != actor.member_id and not actor.has():
        raise PermissionDeniedError("Bạn chỉ có thể đổi mật khẩu của chính mình", "You may only change your own password")
    if member_id == actor.member_id:
        auth.check_current_password(store, member_id, current, throttle=throttle, client=client)
        if current == new and actor.must_change_password:
            raise InvalidInputError(
                "Mật khẩu mới phải khác mật khẩu tạm thời", "The new password must differ from the temporary one", field="new_password"
            )
    set_password_hash(store, member_id, auth.hash_password(new, _context(store, member_id)), actor_id=actor.member_id)


def reset_password(store: Store, actor: Actor, member_id: str) -> str:
    """An administrator gives someone a new random password, to be changed at their next log-in: it
    is returned once (never stored in clear) and every session of that person ends."""
    require_roles(actor, action_vi="đặt lại mật khẩu", action_en="reset passwords")
    if member_id == actor.member_id:
        raise ConflictError(
            "Hãy đổi mật khẩu của chính mình bằng mật khẩu hiện tại",
            "Change your own password by giving the current one",
            member_id=member_id,
        )
    password, password_hash = auth.new_temporary_password()
    set_password_hash(store, member_id, password_hash, actor_id=actor.member_id, temporary=True)
    return password


def _context(store: Store, member_id: str) -> tuple[str, str, str]:
    """What a guesser knows of the person: a password may not be built from it."""
    with store.read() as session:
        member = fetch(session, t.Member, member_id)
        return (member.username or "", member.full_name, member.title or "")


def set_password_hash(store: Store, member_id: str, password_hash: str, *, actor_id: str | None, temporary: bool = False) -> None:
    def decide(session: Session) -> ev.EventPayload:
        member = fetch(session, t.Member, member_id)
        if member.username is None:
            raise InvalidInputError("Thành viên chưa có tên đăng nhập", "The member has no username to log in with", member_id=member_id)
        store_password(session, member_id, password_hash, temporary=temporary)  # same transaction as the event
        # and every session of the person ends in it too: a socket that waits for the watcher after the
        # event (``live_sessions``) must not find the session still there
        auth.end_sessions_in(session, member_id)
        return ev.MemberPasswordSet(member_id=member_id, temporary=temporary)

    store.append(decide, actor_id=actor_id)

"""Passwords (argon2id) and login sessions (random tokens, stored only as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from meeting_room.access import Actor
from meeting_room.db import tables as t
from meeting_room.errors import AuthenticationError, InvalidInputError, TooManyAttemptsError
from meeting_room.roles import Role
from meeting_room.store import Store

_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự (nhận được {len(password)})",
            f"A password needs at least {MIN_PASSWORD} characters (got {len(password)})",
            field="password",
        )
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A random password people can type: 16 characters from an unambiguous alphabet."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Login:
    token: str
    actor: Actor
    expires_at: datetime


_BAD_LOGIN = ("Sai tên đăng nhập hoặc mật khẩu", "Wrong username or password")


class LoginThrottle:
    """At most ``per_user`` failed log-ins per username, and ``per_address`` per client address, within
    ``window`` seconds (the address limit is looser: tablets behind one proxy share an address).

    Kept in memory: one server process guards one room; a restart forgets (and so does an attacker
    who cannot restart the server).
    """

    def __init__(
        self, per_user: int = 5, per_address: int = 20, window: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_user, self.per_address, self.window, self._clock = per_user, per_address, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def check(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            waits = [
                times[0] + self.window - now
                for key in keys
                if len(times := self._recent(key, now)) >= (self.per_user if key.startswith("user:") else self.per_address)
            ]
        if waits:
            wait = int(max(waits)) + 1
            raise TooManyAttemptsError(
                f"Đăng nhập sai quá nhiều lần; hãy thử lại sau {(wait + 59) // 60} phút",
                f"Too many failed log-ins; try again in {(wait + 59) // 60} minutes",
                retry_after=wait,
            )

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # forget the oldest keys rather than grow without end
                for key in list(self._failures)[:5_000]:
                    del self._failures[key]

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)


def login(store: Store, username: str, password: str, *, hours: int, throttle: LoginThrottle | None = None, client: str = "?") -> Login:
    keys = (f"user:{username.strip().lower()}", f"addr:{client}")
    if throttle is not None:
        throttle.check(*keys)
    with store.read() as session:
        member = session.scalar(select(t.Member).where(t.Member.username == username.strip().lower()))
        cred = session.get(t.Credential, member.id) if member else None
    ok = verify_password(cred.password_hash if cred else None, password)
    if not ok or member is None or not member.active:
        if throttle is not None:
            throttle.failed(*keys)
        raise AuthenticationError(*_BAD_LOGIN)
    if throttle is not None:
        throttle.succeeded(keys[0])
    return open_session(store, member, datetime.now(UTC) + timedelta(hours=hours))


def open_session(store: Store, member: t.Member, expires: datetime, meeting_id: str | None = None) -> Login:
    """A new session token; ``meeting_id`` limits it to that meeting (a session from an invitation)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.read() as session, session.begin():
        session.execute(delete(t.AuthSession).where(t.AuthSession.expires_at < now))
        row = t.AuthSession(token_hash=token_hash(token), member_id=member.id, created_at=now, expires_at=expires, meeting_id=meeting_id)
        session.add(row)
    return Login(token, actor_of(member, meeting_id), expires)


def actor_of(member: t.Member, meeting_id: str | None = None) -> Actor:
    """The member as an actor; from an invitation (``meeting_id``) with no system-wide role."""
    roles = frozenset(Role(r) for r in member.roles) if meeting_id is None else frozenset()
    return Actor(member.id, member.full_name, roles, only_meeting=meeting_id)


def resolve(store: Store, token: str) -> Actor:
    """The actor behind a session token; ``AuthenticationError`` if it is unknown or expired."""
    with store.read() as session:
        row = session.get(t.AuthSession, token_hash(token))
        member = session.get(t.Member, row.member_id) if row is not None else None
        return _actor(row, member, datetime.now(UTC))


@dataclass(frozen=True)
class Resolved:
    actor: Actor
    expires_at: datetime


def resolve_hashes(store: Store, hashes: list[str]) -> dict[str, Resolved | AuthenticationError]:
    """Many sessions in one read (by token hash): each one's actor, or why it no longer counts.
    The same rule as ``resolve``: open WebSockets are re-checked with it."""
    now = datetime.now(UTC)
    with store.read() as session:
        rows = {r.token_hash: r for r in session.scalars(select(t.AuthSession).where(t.AuthSession.token_hash.in_(hashes)))}
        ids = {r.member_id for r in rows.values()}
        people = {m.id: m for m in session.scalars(select(t.Member).where(t.Member.id.in_(ids)))} if ids else {}
        found: dict[str, Resolved | AuthenticationError] = {}
        for key in hashes:
            row = rows.get(key)
            try:
                actor = _actor(row, people.get(row.member_id) if row else None, now)
            except AuthenticationError as exc:
                found[key] = exc
                continue
            assert row is not None  # _actor refused a missing row
            found[key] = Resolved(actor, row.expires_at)
        return found


def _actor(row: t.AuthSession | None, member: t.Member | None, now: datetime) -> Actor:
    if row is None or row.expires_at <= now:
        raise AuthenticationError(
            "Phiên đăng nhập không hợp lệ hoặc đã hết hạn; hãy đăng nhập lại",
            "The session is invalid or has expired; log in again",
        )
    if member is None or not member.active:
        raise AuthenticationError("Tài khoản đã bị khóa", "The account is disabled")
    return actor_of(member, row.meeting_id)


def logout(store: Store, token: str) -> None:
    with store.read() as session, session.begin():
        session.execute(delete(t.AuthSession).where(t.AuthSession.token_hash == token_hash(token)))


def end_sessions(store: Store, member_id: str) -> None:
    """Log a person out everywhere (after a password change or when disabled)."""
    with store.read() as session, session.begin():
        session.execute(delete(t.AuthSession).where(t.AuthSession.member_id == member_id))

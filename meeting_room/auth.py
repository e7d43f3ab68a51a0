"""Passwords (argon2id) and login sessions (random tokens, stored only as SHA-256)."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from meeting_room.access import Actor
from meeting_room.db import tables as t
from meeting_room.errors import AuthenticationError, InvalidInputError, MeetingEndedError, TooManyAttemptsError
from meeting_room.lifecycle import EDITABLE, MeetingState
from meeting_room.roles import Role
from meeting_room.store import Store

_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 10
MIN_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" (about 10^8 guesses and more)
# Words a guesser tries first here that zxcvbn's (English) dictionaries lack.
_LOCAL_WORDS = (
    "matkhau", "mat-khau", "mật khẩu", "phonghop", "phong-hop", "hoidong", "nhandan", "hdnd", "ubnd", "quochoi",
    "quantri", "chutich", "thuky", "daibieu", "vanthu", "vietnam", "hanoi", "saigon", "hochiminh", "admin",
)  # fmt: skip


def _folded(text: str) -> str:
    """Vietnamese without marks, as people type it into a password ("Nguyễn Văn Thành" -> "nguyen van thanh")."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def check_password(password: str, context: Iterable[str] = (), field: str = "password") -> None:
    """Refuse a short or guessable password or passphrase (zxcvbn's estimate, with the person's own
    name and username and local words counted as known): ``InvalidInputError`` naming the field."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự (nhận được {len(password)})",
            f"A password needs at least {MIN_PASSWORD} characters (got {len(password)})",
            field=field,
        )
    known = [*_LOCAL_WORDS]
    for item in context:
        if item:
            folded = _folded(item)
            known += [item, folded, folded.replace(" ", ""), *folded.split()]
    # zxcvbn reads at most 72 characters; a longer password is at least as strong as its start
    result = zxcvbn(password[:72], user_inputs=known)
    if result["score"] < MIN_STRENGTH:
        hint = " ".join(x for x in [result["feedback"]["warning"], *result["feedback"]["suggestions"]] if x)
        raise InvalidInputError(
            "Mật khẩu quá dễ đoán (từ phổ biến, tên, ngày tháng, chuỗi lặp hoặc liên tiếp); hãy dùng cụm từ dài hơn, khó đoán hơn",
            f"The password is too easy to guess{' (' + hint.rstrip('.') + ')' if hint else ''}; use a longer, less predictable phrase",
            field=field,
            strength=result["score"],
            needed=MIN_STRENGTH,
        )


def hash_password(password: str, context: Iterable[str] = ()) -> str:
    """The argon2id hash of a password that passes ``check_password``."""
    check_password(password, context)
    return _hasher.hash(password)


# A password from ``new_password`` has about 92 bits of entropy: no guessing reaches it, however fast
# each guess. The full cost protects what people choose; this one lets an import of hundreds of
# people finish in seconds. It lasts until the first log-in, when the person chooses their own.
_generated_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def new_temporary_password() -> tuple[str, str]:
    """A fresh random password and its (argon2id) hash: for a reset or an import, to be changed at the next log-in."""
    password = new_password()
    return password, _generated_hasher.hash(password)


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
    """Slows guessing without letting anyone lock a person out.

    Each failure for one username from one address makes the next try from there wait: the first
    ``free`` cost nothing, then the wait doubles (1 s, 2 s, 4 s ... up to ``max_delay``). A username
    is never locked as such: someone typing the chair's name at another tablet slows that tablet
    only, and the chair logs in from hers. Apart from that, one address may fail ``per_address``
    times within ``window`` (guessing many names). A success, or ``window`` without failures,
    forgets a username's failures at that address.

    Kept in memory: one server process guards one room; a restart forgets (and so does an attacker
    who cannot restart the server).
    """

    def __init__(
        self,
        free: int = 3,
        max_delay: float = 900.0,
        per_address: int = 30,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.max_delay, self.per_address, self.window, self._clock = free, max_delay, per_address, window, clock
        self._pairs: dict[tuple[str, str], tuple[int, float]] = {}  # (user, address) -> (failures, last failure)
        self._addresses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failures in a row."""
        return 0.0 if failures < self.free else min(self.max_delay, 2.0 ** (failures - self.free))

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._addresses.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def check(self, user: str, address: str) -> None:
        """``TooManyAttemptsError`` (with ``retry_after``) while this user at this address must wait."""
        now = self._clock()
        with self._lock:
            waits = []
            failures, last = self._pairs.get((user, address), (0, now))
            if failures and now - last < self.window:
                waits.append(last + self.delay_after(failures) - now)
            times = self._recent(address, now)
            if len(times) >= self.per_address:
                waits.append(times[0] + self.window - now)
        wait = max(waits, default=0.0)
        if wait > 0:
            seconds = math.ceil(wait)
            minutes = (seconds + 59) // 60
            when_vi, when_en = (f"{seconds} giây", f"{seconds} s") if seconds < 120 else (f"{minutes} phút", f"{minutes} min")
            raise TooManyAttemptsError(
                f"Nhập sai mật khẩu quá nhiều lần; hãy thử lại sau {when_vi}",
                f"Too many wrong passwords; try again in {when_en}",
                retry_after=seconds,
            )

    def failed(self, user: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            failures, last = self._pairs.get((user, address), (0, now))
            self._pairs[(user, address)] = (failures + 1 if now - last < self.window else 1, now)
            self._recent(address, now).append(now)
            for table in (self._pairs, self._addresses):
                _forget_oldest(table)

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._pairs.pop((user, address), None)


def login(store: Store, username: str, password: str, *, hours: int, throttle: LoginThrottle | None = None, client: str = "?") -> Login:
    keys = (username.strip().lower(), client)
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
        throttle.succeeded(*keys)
    assert cred is not None  # verify_password refused a missing credential
    expires = datetime.now(UTC) + timedelta(hours=hours)
    return open_session(store, member, expires, must_change_password=cred.must_change, password_hash=cred.password_hash)


def check_current_password(
    store: Store, member_id: str, password: str | None, *, throttle: LoginThrottle | None = None, client: str = "?"
) -> None:
    """The member's current password, before a change: wrong ones are throttled like log-ins."""
    keys = (f"member:{member_id}", client)  # usernames cannot contain ":": no clash with log-in keys
    if throttle is not None:
        throttle.check(*keys)
    with store.read() as session:
        cred = session.get(t.Credential, member_id)
    if password is None or not verify_password(cred.password_hash if cred else None, password):
        if throttle is not None:
            throttle.failed(*keys)
        raise AuthenticationError("Mật khẩu hiện tại không đúng", "The current password is wrong", field="current_password")
    if throttle is not None:
        throttle.succeeded(*keys)


_PASSWORD_CHANGED = (
    "Mật khẩu vừa được đổi trong lúc đăng nhập; hãy đăng nhập lại bằng mật khẩu mới",
    "The password was changed during the log-in; log in again with the new password",
)


def open_session(
    store: Store,
    member: t.Member,
    expires: datetime,
    meeting_id: str | None = None,
    *,
    must_change_password: bool = False,
    password_hash: str | None = None,
) -> Login:
    """A new session token; ``meeting_id`` limits it to that meeting (a session from an invitation).
    ``password_hash``: the one the log-in checked. A change of password (or account) while it was being
    checked ends every session of the member after its commit; a session written after that would
    outlive it, so it is written only if the password is still that one and the member still active
    (the credential's and the member's rows locked on PostgreSQL; SQLite's write lock is taken by the delete before)."""
    now = datetime.now(UTC)
    with store.read() as session, session.begin():
        session.execute(delete(t.AuthSession).where(t.AuthSession.expires_at < now))
        if password_hash is not None:
            cred = session.scalar(select(t.Credential).where(t.Credential.member_id == member.id).with_for_update())
            active = session.scalar(select(t.Member.active).where(t.Member.id == member.id).with_for_update())
            if cred is None or cred.password_hash != password_hash or not active:
                raise AuthenticationError(*_PASSWORD_CHANGED)
        return add_session(session, member, expires, meeting_id, must_change_password=must_change_password)


def add_session(
    session: Session, member: t.Member, expires: datetime, meeting_id: str | None = None, *,
    must_change_password: bool = False, invitation_id: str | None = None,
) -> Login:  # fmt: skip
    """Write a new session in ``session``'s transaction (a store decision's, where what allows it is
    checked); ``invitation_id``: the link it is opened from, for ``meeting_id`` only."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(t.AuthSession(token_hash=token_hash(token), member_id=member.id, created_at=now, expires_at=expires, meeting_id=meeting_id,
                              invitation_id=invitation_id))  # fmt: skip
    return Login(token, actor_of(member, meeting_id, must_change_password=must_change_password), expires)


def actor_of(member: t.Member, meeting_id: str | None = None, *, must_change_password: bool = False) -> Actor:
    """The member as an actor; from an invitation (``meeting_id``) with no system-wide role. A session
    opened with a temporary password (``must_change_password``) may do nothing but change it."""
    roles = frozenset(Role(r) for r in member.roles) if meeting_id is None else frozenset()
    must_change = must_change_password and meeting_id is None  # an invitation link needs no password
    return Actor(member.id, member.full_name, roles, only_meeting=meeting_id, must_change_password=must_change)


def resolve(store: Store, token: str) -> Actor:
    """The actor behind a session token (or a hall display's link); ``AuthenticationError`` if it is
    unknown, expired or revoked."""
    found = resolve_hashes(store, [token_hash(token)])[token_hash(token)]
    if isinstance(found, AuthenticationError):
        raise found
    return found.actor


# Built once: every request runs it, and building a statement (and its cache key) cost more than running it.
_SESSIONS = (
    select(t.AuthSession.token_hash, t.AuthSession.expires_at, t.AuthSession.meeting_id, t.Member.id, t.Member.full_name,
           t.Member.roles, t.Member.active, t.Meeting.state,
           select(t.Credential.member_id)
           .where(t.Credential.member_id == t.AuthSession.member_id, t.Credential.must_change.is_(True)).exists())
    .outerjoin(t.Member, t.Member.id == t.AuthSession.member_id)
    .outerjoin(t.Meeting, t.Meeting.id == t.AuthSession.meeting_id)  # an invitation's meeting (none for a login)
    .where(t.AuthSession.token_hash.in_(bindparam("hashes", expanding=True)))
)  # fmt: skip


@dataclass(frozen=True)
class Resolved:
    actor: Actor
    expires_at: datetime


def resolve_hashes(store: Store, hashes: list[str]) -> dict[str, Resolved | AuthenticationError]:
    """Many sessions in one read (by token hash): each one's actor, or why it no longer counts.
    The same rule as ``resolve``: open WebSockets are re-checked with it.

    Every request reads its session here, so it is one statement (the session, its person and
    whether their password is temporary) on a plain connection: a revoked session, a disabled
    account or a reset password counts from the very next request, with nothing cached."""
    now = datetime.now(UTC)
    with store.engine.connect() as conn:
        rows = {r[0]: r for r in conn.execute(_SESSIONS, {"hashes": hashes})}
        missing = [key for key in hashes if key not in rows]
        if missing:
            with Session(bind=conn) as session:
                found: dict[str, Resolved | AuthenticationError] = _displays(session, missing, now)
        else:
            found = {}
    for key in hashes:
        if key in found:
            continue
        row = rows.get(key)
        try:
            if row is None or row.expires_at <= now:
                raise AuthenticationError(*_SESSION_GONE)
            if row.id is None or not row.active:
                raise AuthenticationError(*_DISABLED)
            if row.meeting_id is not None and (row.state is None or MeetingState(row.state) not in EDITABLE):
                raise MeetingEndedError(*_INVITATION_ENDED)  # the link was for the meeting, not its record
            roles = frozenset(Role(r) for r in row.roles) if row.meeting_id is None else frozenset()
            must_change = bool(row[-1]) and row.meeting_id is None  # an invitation link needs no password
            actor = Actor(row.id, row.full_name, roles, only_meeting=row.meeting_id, must_change_password=must_change)
        except AuthenticationError as exc:
            found[key] = exc
            continue
        found[key] = Resolved(actor, row.expires_at)
    return found


_SESSION_GONE = ("Phiên đăng nhập không hợp lệ hoặc đã hết hạn; hãy đăng nhập lại", "The session is invalid or has expired; log in again")
_DISABLED = ("Tài khoản đã bị khóa", "The account is disabled")
_INVITATION_ENDED = (
    "Cuộc họp đã kết thúc: liên kết mời không còn mở được cuộc họp; hãy đăng nhập bằng tài khoản của bạn để xem hồ sơ",
    "The meeting has ended: the invitation link no longer opens it; log in with your own account to see the record",
)


DISPLAY_NAME = "Màn hình hội trường"
_DISPLAY_GONE = (
    "Liên kết màn hình hội trường không còn hiệu lực (đã hết hạn hoặc bị thu hồi); hãy xin thư ký một liên kết mới",
    "This hall display link is no longer valid (expired or revoked); ask the secretary for a new one",
)
_DISPLAY_ENDED = (
    "Cuộc họp đã kết thúc: màn hình hội trường không còn hiển thị cuộc họp này",
    "The meeting has ended: the hall display no longer shows it",
)


def _displays(session: Session, hashes: list[str], now: datetime) -> dict[str, Resolved | AuthenticationError]:
    """Hall display links among ``hashes``: the link itself is the display's credential (no person,
    no session row), so revoking it or its expiry ends the display at once."""
    rows = session.execute(
        select(t.Invitation, t.Meeting.state)
        .join(t.Meeting, t.Meeting.id == t.Invitation.meeting_id)
        .where(t.Invitation.token_hash.in_(hashes), t.Invitation.member_id.is_(None))
    )
    found: dict[str, Resolved | AuthenticationError] = {}
    for link, state in rows:
        # a display ends with its meeting: afterwards its captions are the record's, not the hall's
        if link.revoked_at is not None or link.expires_at <= now:
            found[link.token_hash] = AuthenticationError(*_DISPLAY_GONE)
        elif MeetingState(state) not in EDITABLE:
            found[link.token_hash] = MeetingEndedError(*_DISPLAY_ENDED)
        else:
            actor = Actor(f"display:{link.id}", DISPLAY_NAME, frozenset(), only_meeting=link.meeting_id, display=True)
            found[link.token_hash] = Resolved(actor, link.expires_at)
    return found


def logout(store: Store, token: str) -> None:
    with store.read() as session, session.begin():
        session.execute(delete(t.AuthSession).where(t.AuthSession.token_hash == token_hash(token)))


def end_sessions(store: Store, member_id: str) -> None:
    """Log a person out everywhere (when disabled)."""
    with store.read() as session, session.begin():
        end_sessions_in(session, member_id)


def end_sessions_in(session: Session, member_id: str) -> None:
    """Log a person out everywhere, in the caller's transaction (with the event that says why)."""
    session.execute(delete(t.AuthSession).where(t.AuthSession.member_id == member_id))


def _forget_oldest(table: dict[Any, Any], most: int = 10_000) -> None:
    """Forget the oldest half of a table that grew past ``most`` keys, rather than grow without end."""
    if len(table) > most:
        for key in list(table)[: most // 2]:
            del table[key]

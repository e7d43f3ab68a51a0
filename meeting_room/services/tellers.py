"""Tellers: the meeting's chair and secretary each hold one lock of a secret poll's ballot box.

Each makes a teller key once (the private half kept encrypted under a passphrase only they know).
When a secret poll opens, its private key is split in two shares sealed to the two tellers' keys;
after a restart of the server both tellers give their passphrase to put the key back together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import auth
from meeting_room.access import Actor, get_meeting
from meeting_room.ballot_keys import ShareStatus
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from meeting_room.store import Store
from voting import KeyPair, PollState, Secrecy
from voting.sealing import lock_private, share_context, unlock_private, unseal


@dataclass(frozen=True)
class TellerKeyInfo:
    fingerprint: str  # first 16 hex digits of the public key, to compare by eye
    created_at: datetime


def teller_ids(meeting: t.Meeting) -> list[str]:
    """The two tellers of a meeting's secret polls (chair first)."""
    return [m for m in (meeting.chair_id, meeting.secretary_id) if m is not None]


def key_of(session: Session, member_id: str) -> t.TellerKey | None:
    return session.get(t.TellerKey, member_id)


def info(store: Store, member_id: str) -> TellerKeyInfo | None:
    with store.read() as session:
        row = key_of(session, member_id)
        return TellerKeyInfo(row.public_key[:16], row.created_at) if row else None


def set_key(store: Store, actor: Actor, passphrase: str, current: str | None = None) -> TellerKeyInfo:
    """Make (or replace) the actor's teller key; replacing needs the current passphrase."""
    if actor.only_meeting is not None:
        raise PermissionDeniedError(
            "Phiên đăng nhập từ liên kết mời không tạo được khóa kiểm phiếu; hãy đăng nhập bằng tài khoản",
            "A session from an invitation link cannot make a teller key; log in with your account",
        )
    with store.read() as session:
        member = session.get_one(t.Member, actor.member_id)
        cred = session.get(t.Credential, actor.member_id)
        context = [member.full_name, member.username or ""]
    auth.check_password(passphrase, context, field="passphrase")  # the same policy as a password
    if cred is not None and auth.verify_password(cred.password_hash, passphrase):
        raise InvalidInputError(
            "Mật khẩu khóa kiểm phiếu phải khác mật khẩu đăng nhập",
            "The teller passphrase must differ from your login password",
            field="passphrase",
        )
    pair = KeyPair.generate()
    locked = lock_private(pair.private, passphrase)
    now = datetime.now(UTC)
    with store.exclusive() as session:  # serialised with the poll openings that seal to this key
        row = key_of(session, actor.member_id)
        if row is not None:
            if not current:
                raise InvalidInputError(
                    "Bạn đã có khóa kiểm phiếu: nhập mật khẩu hiện tại để thay khóa mới",
                    "You already have a teller key: give its current passphrase to replace it",
                    field="current_passphrase",
                )
            unlock_private(row.locked_private, current)
            held = session.scalar(select(t.PollKeyShare.poll_id).where(t.PollKeyShare.teller_id == actor.member_id).limit(1))
            if held is not None:
                raise ConflictError(
                    "Đang có phiên biểu quyết kín giữ khóa của bạn; hãy thay khóa sau khi phiên đó kết thúc",
                    "An open secret poll is locked with your teller key; replace it after that poll has closed",
                    poll_id=held,
                )
            row.public_key, row.locked_private, row.created_at = pair.public.hex(), locked, now
        else:
            session.add(t.TellerKey(member_id=actor.member_id, public_key=pair.public.hex(), locked_private=locked, created_at=now))
    return TellerKeyInfo(pair.public.hex()[:16], now)


def require_keys(session: Session, meeting: t.Meeting) -> list[t.TellerKey]:
    """Both tellers' keys, or a conflict that says who must make one."""
    ids = teller_ids(meeting)
    if len(ids) < 2 or ids[0] == ids[1]:
        raise ConflictError(
            "Biểu quyết kín cần hai người giữ khóa hòm phiếu: cuộc họp phải có chủ tọa và thư ký khác nhau",
            "A secret vote needs two tellers holding the ballot box's locks: the meeting needs a chair and a different secretary",
            meeting_id=meeting.id,
        )
    keys = [key_of(session, i) for i in ids]
    missing = [i for i, k in zip(ids, keys, strict=True) if k is None]
    if missing:
        names = ", ".join(session.get_one(t.Member, i).full_name for i in missing)
        raise ConflictError(
            f"Chưa thể mở biểu quyết kín: {names} chưa tạo khóa kiểm phiếu (trang Cuộc họp → Khóa kiểm phiếu)",
            f"Cannot open a secret vote yet: {names} must first make a teller key (Meetings page → Teller key)",
            missing=missing,
        )
    return [k for k in keys if k is not None]


def open_share(store: Store, actor: Actor, poll_id: str, passphrase: str) -> ShareStatus:
    """A teller opens their share of a secret poll's key; with both, the key is whole again.
    The passphrase is checked every time, also when the key is already whole."""
    with store.read() as session:
        poll = session.get(t.Poll, poll_id)
        if poll is None:
            raise NotFoundError(f"Không có phiên biểu quyết {poll_id}", f"No poll {poll_id}", poll_id=poll_id)
        meeting = get_meeting(session, poll.meeting_id)
        if poll.secrecy != Secrecy.SECRET.value or poll.state != PollState.OPEN.value or poll.ballot_key is None:
            raise ConflictError(
                "Chỉ cần mở khóa hòm phiếu của phiên biểu quyết kín đang mở",
                "Only an open secret poll's ballot box is unlocked",
                poll_id=poll_id,
                state=poll.state,
            )
        shares = {s.teller_id: s.sealed for s in session.scalars(select(t.PollKeyShare).where(t.PollKeyShare.poll_id == poll_id))}
        if actor.member_id not in shares:
            raise PermissionDeniedError(
                "Chỉ chủ tọa và thư ký (người giữ khóa) mở được hòm phiếu",
                "Only the tellers (the chair and the secretary) can unlock the ballot box",
                meeting_id=meeting.id,
            )
        key = key_of(session, actor.member_id)
        tellers = sorted(shares)
        public = bytes.fromhex(poll.ballot_key)
    if key is None:
        raise ConflictError("Bạn không còn khóa kiểm phiếu", "Your teller key is missing", member_id=actor.member_id)
    private = unlock_private(key.locked_private, passphrase)
    share = unseal(private, shares[actor.member_id], share_context(poll_id, actor.member_id))
    if store.ballot_keys.private(poll_id) is not None:
        return ShareStatus(True, frozenset(tellers))
    return store.ballot_keys.add_share(poll_id, actor.member_id, share, tellers, public)

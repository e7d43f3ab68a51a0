"""SQLAlchemy tables.

``events`` is the source of truth (append-only, hash-chained). The read models are derived from
events by ``meeting_room.projections`` and can be rebuilt: each carries ``info={"derived": True}``
and ``DERIVED_TABLES`` is computed from that flag. ``credentials``, ``auth_sessions``, the
biometric tables and ``ballot_box`` are not built from events and are not derived.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

ID = String(36)
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = value  # what the driver reads from a DateTime column
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EventRow(Base):
    """One committed event. ``hash`` = SHA-256 over the canonical event including ``prev_hash``."""

    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(64))
    meeting_id: Mapped[str | None] = mapped_column(ID)
    actor_id: Mapped[str | None] = mapped_column(ID)
    occurred_at: Mapped[str] = mapped_column(String(40))  # ISO 8601 text, hashed exactly as stored
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed exactly as stored
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # a fork cannot be committed
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Credential(Base):
    __tablename__ = "credentials"
    member_id: Mapped[str] = mapped_column(ID, primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # set by an administrator's reset or an import: a password someone else has seen, to be replaced at next log-in
    must_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class FaceEncoding(Base):
    """A member's enrolled face (128 float64, little-endian). Biometric data: not derived from the
    log, deleted when consent is withdrawn or the member is deactivated. No foreign key, so that
    ``rebuild`` can empty and refill ``members`` without touching it."""

    __tablename__ = "face_encodings"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    member_id: Mapped[str] = mapped_column(ID, index=True)
    encoding: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VoicePrint(Base):
    """A member's enrolled voice (CAM++ embedding, 192 float32, little-endian). Biometric data like
    ``FaceEncoding``: not derived from the log, deleted with consent, no foreign key."""

    __tablename__ = "voice_prints"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    member_id: Mapped[str] = mapped_column(ID, index=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    speech_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuthSession(Base):
    __tablename__ = "auth_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(ID, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meeting_id: Mapped[str | None] = mapped_column(ID)  # opened from an invitation: this meeting only
    invitation_id: Mapped[str | None] = mapped_column(ID)  # ... that one: revoking it ends its sessions, not another link's


class DocumentNote(Base):
    """A person's private note on one page of a document. Not an event: the log is the meeting's
    shared, hash-chained record (staff read it, exports and backups of the record carry it, and
    nothing in it is ever erased), while a note is the reader's own scratch paper that they rewrite
    and delete at will and that no one else may read. No foreign key, so that ``rebuild`` can empty
    and refill ``documents`` and ``members`` without touching it."""

    __tablename__ = "document_notes"
    member_id: Mapped[str] = mapped_column(ID, primary_key=True)
    document_id: Mapped[str] = mapped_column(ID, primary_key=True)
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingView(Base):
    """When a person last opened a meeting (its "changed since you looked" mark): a fact about
    reading, not a change of meeting state, so it is no event; no foreign key, as the read models
    it points at are emptied and rebuilt."""

    __tablename__ = "meeting_views"
    member_id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ID, primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- read models (derived from events) ---------------------------------------------------------


class Body(Base):
    __tablename__ = "bodies"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    short_name: Mapped[str] = mapped_column(String(32))
    parent_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16), default="other", server_default="other")  # roles.BodyKind


class Member(Base):
    __tablename__ = "members"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    body_id: Mapped[str | None] = mapped_column(ForeignKey("bodies.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    biometric_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    biometric_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    biometric_consent_note: Mapped[str | None] = mapped_column(Text)  # the signed form it rests on ("Phiếu số 12/2026")
    faces_enrolled: Mapped[int] = mapped_column(Integer, default=0)
    voices_enrolled: Mapped[int] = mapped_column(Integer, default=0)
    email: Mapped[str | None] = mapped_column(String(254))  # where notices go


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    location: Mapped[str | None] = mapped_column(String(255))


class Seat(Base):
    __tablename__ = "seats"
    __table_args__ = (UniqueConstraint("room_id", "label"), {"info": {"derived": True}})
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[str | None] = mapped_column(ID)  # who usually sits here (a default for each meeting in the room)


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(32))
    chair_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    secretary_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seq: Mapped[int] = mapped_column(BigInteger)  # the newest event of this meeting
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first time in session
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it was closed (bế mạc)
    unknown_faces: Mapped[dict[str, int] | None] = mapped_column(JSON)  # camera -> faces seen that match nobody
    current_item_id: Mapped[str | None] = mapped_column(ID)  # the agenda item under discussion
    agenda_log: Mapped[list[list[str]] | None] = mapped_column(JSON)  # [[iso time, item id], ...] as items were taken
    floor_queue: Mapped[list[list[str]] | None] = mapped_column(JSON)  # [[member id, iso time asked], ...] waiting to speak
    floor_speaker: Mapped[list[str] | None] = mapped_column(JSON)  # [member id, iso time given] of whoever speaks now
    devices: Mapped[dict[str, dict[str, str | None]] | None] = mapped_column(JSON)  # room device -> {kind, state, detail, since}
    speaking_limit_s: Mapped[int | None] = mapped_column(Integer)  # a turn's length unless the item says otherwise
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the invitation last sent (gửi giấy mời)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # details, agenda or documents last changed
    cancel_reason: Mapped[str | None] = mapped_column(Text)  # why it was cancelled, as the participants are told


class Participant(Base):
    __tablename__ = "meeting_participants"
    __table_args__ = {"info": {"derived": True}}
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class MeetingSeat(Base):
    """A seat taken by someone else than its usual occupant for one meeting (``member_id`` None: left
    empty). No key to ``seats``: a room's seat list is rebuilt when edited; an id gone is ignored."""

    __tablename__ = "meeting_seats"
    __table_args__ = {"info": {"derived": True}}
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    seat_id: Mapped[str] = mapped_column(ID, primary_key=True)
    member_id: Mapped[str | None] = mapped_column(ID)


class InvitationReply(Base):
    """A participant's latest reply to the invitation (``meeting.reply_given``)."""

    __tablename__ = "invitation_replies"
    __table_args__ = {"info": {"derived": True}}
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    answer: Mapped[str] = mapped_column(String(16))  # attendance.ReplyAnswer
    reason: Mapped[str | None] = mapped_column(Text)
    deputy_id: Mapped[str | None] = mapped_column(ID)  # attends in their place (a guest participant)
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    presenter_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    speaking_limit_s: Mapped[int | None] = mapped_column(Integer)  # overrides the meeting's for this item


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    agenda_item_id: Mapped[str] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    pages: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str | None] = mapped_column(ID)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = {"info": {"derived": True}}
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    camera: Mapped[str | None] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(ID)
    first_present_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    face_check: Mapped[str | None] = mapped_column(String(16))  # a remote participant's camera: confirmed | mismatch
    face_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    face_check_looks_like: Mapped[str | None] = mapped_column(ID)  # mismatch: the other participant it matched


class Poll(Base):
    __tablename__ = "polls"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    agenda_item_id: Mapped[str | None] = mapped_column(ID)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    options: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    seats: Mapped[int | None] = mapped_column(Integer)
    min_choices: Mapped[int] = mapped_column(Integer)
    max_choices: Mapped[int] = mapped_column(Integer)
    secrecy: Mapped[str] = mapped_column(String(16))
    eligibility: Mapped[str] = mapped_column(String(32))
    allow_change: Mapped[bool] = mapped_column(Boolean)
    rule: Mapped[dict[str, str | None]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(ID)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    members: Mapped[int | None] = mapped_column(Integer)
    present: Mapped[int | None] = mapped_column(Integer)
    eligible_count: Mapped[int | None] = mapped_column(Integer)
    ballots_cast: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    ballot_key: Mapped[str | None] = mapped_column(String(64))  # hex X25519 public key of a secret poll
    before_meeting: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # xin ý kiến
    document_id: Mapped[str | None] = mapped_column(ID)  # the draft an opinion is asked on


class PollEligible(Base):
    __tablename__ = "poll_eligible"
    __table_args__ = {"info": {"derived": True}}
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)


class PollVoter(Base):
    """Who has voted. The primary key is the database's guarantee of one ballot per member."""

    __tablename__ = "poll_voters"
    __table_args__ = {"info": {"derived": True}}
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)


class Ballot(Base):
    """A counted ballot, projected from ``poll.closed`` (for secret polls, ``voter_id`` is null)."""

    __tablename__ = "ballots"
    __table_args__ = {"info": {"derived": True}}
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    selection: Mapped[list[str]] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text)
    voter_id: Mapped[str | None] = mapped_column(ID)


class BallotBox(Base):
    """Ballots of polls still open. Not derived from events: a choice enters the log only when the
    poll closes, all ballots at once in receipt order, so the log cannot join a ballot to its voter.

    No timestamp and no insertion-ordered key: on SQLite the table has no rowid and is stored in
    the order of the random receipt hash. ``voter_id`` is set for named polls only.
    """

    __tablename__ = "ballot_box"
    __table_args__ = (UniqueConstraint("poll_id", "voter_id"), {"sqlite_with_rowid": False})
    poll_id: Mapped[str] = mapped_column(ID, primary_key=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    selection: Mapped[list[str]] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text)
    voter_id: Mapped[str | None] = mapped_column(ID)


class SealedBallot(Base):
    """A secret poll's ballot while the poll is open: sealed to the poll's public key, kept with its
    voter (the voter's own transaction writes it, so hiding the order could not work), unreadable
    without the poll's private key, which lives in the server's memory. Deleted when the poll closes
    or is cancelled. Not derived from events; no foreign keys, so ``rebuild`` leaves it alone.
    """

    __tablename__ = "sealed_ballots"
    __table_args__ = {"sqlite_with_rowid": False}
    poll_id: Mapped[str] = mapped_column(ID, primary_key=True)
    member_id: Mapped[str] = mapped_column(ID, primary_key=True)  # one ballot per member, by the key
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class ReceiptCheck(Base):
    """H(poll, receipt, voter): lets the voter's own session (with the receipt) change or read back
    their ballot, while nothing stored joins the voter to the ballot's H(poll, receipt)."""

    __tablename__ = "receipt_checks"
    __table_args__ = {"sqlite_with_rowid": False}
    poll_id: Mapped[str] = mapped_column(ID, primary_key=True)
    member_id: Mapped[str] = mapped_column(ID, primary_key=True)
    check: Mapped[str] = mapped_column(String(64))


class PollKeyShare(Base):
    """Half of an open secret poll's private key, sealed to one teller's key (both halves are needed)."""

    __tablename__ = "poll_key_shares"
    poll_id: Mapped[str] = mapped_column(ID, primary_key=True)
    teller_id: Mapped[str] = mapped_column(ID, primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class TellerKey(Base):
    """A chair's or secretary's teller key pair: the private half encrypted under their passphrase."""

    __tablename__ = "teller_keys"
    member_id: Mapped[str] = mapped_column(ID, primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # hex
    locked_private: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float] = mapped_column(Float)
    channels: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str | None] = mapped_column(ID)


class TranscriptPass(Base):
    __tablename__ = "transcript_passes"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # live | final
    model: Mapped[str] = mapped_column(String(255))
    recording_id: Mapped[str | None] = mapped_column(ID)
    diarization: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))  # running | completed | failed | stopped
    segments: Mapped[int] = mapped_column(Integer, default=0)
    progress_s: Mapped[float] = mapped_column(Float, default=0.0)  # end of the last line: where a resume starts
    audio_s: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TranscriptSpeaker(Base):
    __tablename__ = "transcript_speakers"
    __table_args__ = {"info": {"derived": True}}
    pass_id: Mapped[str] = mapped_column(ForeignKey("transcript_passes.id"), primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    member_id: Mapped[str | None] = mapped_column(ID)
    score: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))


class TranscriptLine(Base):
    __tablename__ = "transcript_lines"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    pass_id: Mapped[str] = mapped_column(ForeignKey("transcript_passes.id"), index=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    cluster: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    words: Mapped[list[list[Any]]] = mapped_column(JSON)


class MinutesVersion(Base):
    __tablename__ = "minutes_versions"
    __table_args__ = {"info": {"derived": True}}
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    place: Mapped[str | None] = mapped_column(String(255))
    opening: Mapped[str | None] = mapped_column(Text)
    closing: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    sections: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{item_id, text}]
    generated: Mapped[bool] = mapped_column(Boolean)
    saved_by: Mapped[str | None] = mapped_column(ID)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MinutesSignature(Base):
    __tablename__ = "minutes_signatures"
    __table_args__ = {"info": {"derived": True}}
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)  # secretary | chair
    version: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[str] = mapped_column(ID)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    signed_from_sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    timestamped: Mapped[bool] = mapped_column(Boolean)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignerCertificate(Base):
    """A member's registered signing certificate; the PKCS#12 file lies in the data directory."""

    __tablename__ = "signer_certificates"
    __table_args__ = {"info": {"derived": True}}
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    common_name: Mapped[str] = mapped_column(String(255))
    issuer: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignatureImage(Base):
    """A member's signature image or a body's seal image for the signatures' appearance."""

    __tablename__ = "signature_images"
    __table_args__ = {"info": {"derived": True}}
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # signature | seal
    owner_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a member's or a body's id
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ArchiveRecord(Base):
    __tablename__ = "archives"
    __table_args__ = {"info": {"derived": True}}
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    files: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SearchDoc(Base):
    """A searchable piece of text (a transcript line, a minutes section) with what clerks filter on.

    ``folded`` is the text without diacritics, one character for one (``transcripts.text.fold``);
    SQLite indexes it with FTS5 (table ``search_fts``; the minutes also in ``search_fts_minutes``),
    PostgreSQL with a GIN index on its tsvector (the minutes also in a partial one).
    """

    __tablename__ = "search_docs"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ID, index=True)
    body_id: Mapped[str] = mapped_column(ID)
    meeting_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in the local time zone
    kind: Mapped[str] = mapped_column(String(16))  # transcript | minutes | agenda | poll
    ref_id: Mapped[str] = mapped_column(String(64))
    agenda_item_id: Mapped[str | None] = mapped_column(ID)
    agenda_title: Mapped[str | None] = mapped_column(String(500))
    speaker: Mapped[str | None] = mapped_column(String(255))
    speaker_member_id: Mapped[str | None] = mapped_column(ID)
    poll_outcomes: Mapped[str | None] = mapped_column(String(255))  # " passed failed " of the item's polls
    start_s: Mapped[float | None] = mapped_column(Float)
    recording_id: Mapped[str | None] = mapped_column(ID)
    text: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(Text)


Index("ix_search_docs_body_date", SearchDoc.body_id, SearchDoc.meeting_date)
Index("ix_search_docs_date", SearchDoc.meeting_date)
Index("ix_events_meeting_seq", EventRow.meeting_id, EventRow.seq)
Index("ix_transcript_lines_pass_start", TranscriptLine.pass_id, TranscriptLine.start)


class Invitation(Base):
    """A link that lets one participant into one meeting without their password, until it expires;
    without a member, a hall display's link (that meeting's public view, read-only)."""

    __tablename__ = "invitations"
    __table_args__ = {"info": {"derived": True}}
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))  # None: a hall display
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(ID)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by: Mapped[str | None] = mapped_column(ID)  # revoked by a newer link for the same member, not by a tap
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerCredential(Base):
    """A transcription worker's key to the server (``meeting-room worker-credential``): it fetches the
    recordings of queued final passes and nothing else. Only the key's SHA-256 is kept; not derived
    from events (no meeting state in it)."""

    __tablename__ = "worker_credentials"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FaceImport(Base):
    """A folder of face photos uploaded as a ZIP (``<member>/<photo>``), enrolled by a job: on the
    queue of a PostgreSQL installation, in the server's thread on SQLite. ``plan`` (JSON) lists the
    members and their photos' entries, checked at upload; ``results`` (JSON) grows by one entry per
    member done, so that a retried job resumes after the last one. The photos themselves are in
    ``face_import_archives``, apart, so that writing the progress never rewrites them. Not derived
    from events: the log records each face enrolled."""

    __tablename__ = "face_imports"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(ID)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed, stopped
    plan: Mapped[str] = mapped_column(Text)
    results: Mapped[str] = mapped_column(Text)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FaceImportArchive(Base):
    """The uploaded ZIP of a face import (biometric data): kept only while the import is queued or
    running, deleted when it ends; a backup leaves it out."""

    __tablename__ = "face_import_archives"
    import_id: Mapped[str] = mapped_column(ID, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MailMessage(Base):
    """The outbox: an e-mail waiting for (or past) the body's SMTP server. Not derived from events
    (nothing in it is meeting state); ``key`` names what it is about, so that a notice is queued once."""

    __tablename__ = "mail_outbox"
    # e.g. "invitation:<meeting>:<member>"; no serial key, so that `meeting-room move` copies it as it is
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class MailCursor(Base):
    """The newest event the notices have been drawn from (one row): a restart resumes after it."""

    __tablename__ = "mail_cursor"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


def derived_tables() -> list[Table]:
    """The read models (tables flagged ``info={"derived": True}``), children first: the order
    ``rebuild`` empties them in. Everything else (the log, credentials, sessions, biometrics, the
    ballot box of open polls) is not built from events and is never emptied by a rebuild."""
    return [table for table in reversed(Base.metadata.sorted_tables) if table.info.get("derived")]


DERIVED_TABLES: list[Table] = derived_tables()

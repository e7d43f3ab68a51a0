"""Event payloads: the only things the store appends.

Each payload is a frozen pydantic model with a unique ``type``. Meeting-scoped payloads carry
``meeting_id`` so that the meeting's live stream and archive can select them.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from meeting_room.attendance import AttendanceSource, AttendanceStatus, FaceCheck, ReplyAnswer
from meeting_room.lifecycle import MeetingState
from meeting_room.roles import BodyKind, MeetingRole, Role
from meeting_room.text import Email, LongText, Name, ShortText, Title, Username
from voting import Eligibility, PollKind, PollState, Secrecy
from voting.receipt import published_order

EVENT_TYPES: dict[str, type[EventPayload]] = {}


class EventPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type" in cls.__dict__:
            if cls.type in EVENT_TYPES:
                raise TypeError(f"duplicate event type {cls.type}")
            EVENT_TYPES[cls.type] = cls

    @classmethod
    def public_data(cls, data: dict[str, Any], overseer: bool) -> dict[str, Any]:
        """What clients (the events API, the live stream) are shown of a stored event's data;
        ``overseer``: ``access.oversees`` the meeting (its officers and record keepers)."""
        return data

    @property
    def meeting_scope(self) -> str | None:
        return getattr(self, "meeting_id", None)


def public_data(event_type: str, data: dict[str, Any], overseer: bool) -> dict[str, Any]:
    cls = EVENT_TYPES.get(event_type)
    return cls.public_data(data, overseer) if cls is not None else data


def parse_payload(event_type: str, data: dict[str, Any]) -> EventPayload:
    try:
        cls = EVENT_TYPES[event_type]
    except KeyError:
        raise ValueError(f"unknown event type {event_type!r}") from None
    return cls.model_validate(data, context={"stored": True})  # the input rules of today do not judge the past (text.replaying)


# --- organisation ------------------------------------------------------------------------------


class BodyCreated(EventPayload):
    type = "body.created"
    body_id: str
    name: Name
    short_name: ShortText
    parent_name: Name | None = None
    kind: BodyKind = BodyKind.OTHER


class BodyUpdated(EventPayload):
    type = "body.updated"
    body_id: str
    name: Name | None = None
    short_name: ShortText | None = None
    parent_name: Name | None = None
    kind: BodyKind | None = None


class MemberCreated(EventPayload):
    type = "member.created"
    member_id: str
    body_id: str | None
    full_name: Name
    title: Name | None = None
    roles: list[Role]
    username: Username | None = None
    email: Email | None = None  # where notices go (invitations, reminders)


class MemberUpdated(EventPayload):
    type = "member.updated"
    member_id: str
    body_id: str | None = None
    full_name: Name | None = None
    title: Name | None = None
    roles: list[Role] | None = None
    username: Username | None = None
    active: bool | None = None
    email: Email | None = None


class MemberPasswordSet(EventPayload):
    """The hash itself is not meeting state and never enters the log."""

    type = "member.password_set"
    member_id: str
    temporary: bool = False  # reset by an administrator or generated at import: to be changed at next log-in


class BiometricConsent(EventPayload):
    """The member's consent to processing their face and voice (Decree 13/2023/NĐ-CP), or its withdrawal."""

    type = "member.biometric_consent"
    member_id: str
    given: bool
    note: LongText | None = None  # e.g. "Phiếu đồng ý số 12/2026, ký ngày 20/11/2026"


class FaceEnrolled(EventPayload):
    """That a face was enrolled; the encoding itself is biometric data and never enters the log."""

    type = "member.face_enrolled"
    member_id: str
    face_id: str
    face_px: int = Field(gt=0)
    sharpness: float = Field(ge=0)


class VoiceEnrolled(EventPayload):
    """That a voice was enrolled; the voiceprint itself is biometric data and never enters the log."""

    type = "member.voice_enrolled"
    member_id: str
    voice_id: str
    speech_s: float = Field(gt=0)
    level_db: float


class BiometricsDeleted(EventPayload):
    type = "member.biometrics_deleted"
    member_id: str
    reason: str = Field(pattern=r"^(consent_withdrawn|member_deactivated|requested)$")
    faces: int = Field(ge=0)
    voices: int = Field(0, ge=0)


class SeatSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    seat_id: str
    label: ShortText
    position: int = Field(ge=0)


class RoomCreated(EventPayload):
    type = "room.created"
    room_id: str
    name: Name
    location: Name | None = None
    seats: list[SeatSpec] = []


class RoomUpdated(EventPayload):
    type = "room.updated"
    room_id: str
    name: Name | None = None
    location: Name | None = None
    seats: list[SeatSpec] | None = None


class SeatOccupantSet(EventPayload):
    """Who usually sits in a seat (``None``: nobody): the default for each meeting in the room."""

    type = "room.seat_occupant_set"
    room_id: str
    seat_id: str
    member_id: str | None


# --- meetings ----------------------------------------------------------------------------------


class MeetingScheduled(EventPayload):
    type = "meeting.scheduled"
    meeting_id: str
    body_id: str
    title: Title
    room_id: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    chair_id: str | None = None
    secretary_id: str | None = None


class MeetingUpdated(EventPayload):
    type = "meeting.updated"
    meeting_id: str
    title: Title | None = None
    room_id: str | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    chair_id: str | None = None
    secretary_id: str | None = None


class MeetingStateChanged(EventPayload):
    type = "meeting.state_changed"
    meeting_id: str
    from_state: MeetingState
    to_state: MeetingState
    reason: LongText | None = None


class MeetingPublished(EventPayload):
    """The invitation goes out (gửi giấy mời): the participants see the meeting, its agenda and its
    documents; ``republish``: sent again because something changed since the last time."""

    type = "meeting_published"  # the name the invitation e-mail listens for
    meeting_id: str
    republish: bool = False


class ParticipantAdded(EventPayload):
    type = "meeting.participant_added"
    meeting_id: str
    member_id: str
    role: MeetingRole


class ParticipantRemoved(EventPayload):
    type = "meeting.participant_removed"
    meeting_id: str
    member_id: str


class MeetingSeatAssigned(EventPayload):
    """Who sits in a room's seat for this meeting (``None``: the seat stays empty), in place of its
    usual occupant; the seat microphone names this person."""

    type = "meeting.seat_assigned"
    meeting_id: str
    seat_id: str
    member_id: str | None


class MeetingSeatReset(EventPayload):
    """The seat goes back to its usual occupant for this meeting."""

    type = "meeting.seat_reset"
    meeting_id: str
    seat_id: str


class InvitationReplied(EventPayload):
    """A participant's reply to the invitation; a later one replaces it. With a deputy, ``deputy_id``
    is the member who attends in their place (added as a guest participant in the same write)."""

    type = "meeting.reply_given"  # not "meeting.invitation_…": the pages read those as invitation links
    meeting_id: str
    member_id: str
    answer: ReplyAnswer
    reason: LongText | None = None
    deputy_id: str | None = None

    @classmethod
    def public_data(cls, data: dict[str, Any], overseer: bool) -> dict[str, Any]:
        """A reply (an absence's reason may be a private matter) is read by the meeting's officers and
        record keepers (``GET …/replies``); the others' pages learn only that someone replied."""
        return data if overseer else {"meeting_id": data["meeting_id"], "member_id": data["member_id"]}


class AgendaItemAdded(EventPayload):
    type = "agenda.item_added"
    meeting_id: str
    item_id: str
    position: int = Field(ge=0)
    title: Title
    description: LongText | None = None
    presenter_id: str | None = None


class AgendaItemUpdated(EventPayload):
    type = "agenda.item_updated"
    meeting_id: str
    item_id: str
    title: Title | None = None
    description: LongText | None = None
    presenter_id: str | None = None


class AgendaItemRemoved(EventPayload):
    type = "agenda.item_removed"
    meeting_id: str
    item_id: str


class AgendaReordered(EventPayload):
    type = "agenda.reordered"
    meeting_id: str
    item_ids: list[str]


class AgendaItemTaken(EventPayload):
    """The chair moves the meeting on to an item: what is said from now on belongs to it."""

    type = "agenda.item_taken"
    meeting_id: str
    item_id: str


class FloorRequested(EventPayload):
    """A participant asks to speak (xin phát biểu): they join the end of the queue."""

    type = "floor.requested"
    meeting_id: str
    member_id: str


class FloorWithdrawn(EventPayload):
    """A request to speak leaves the queue unanswered: withdrawn by the member or declined by the chair."""

    type = "floor.withdrawn"
    meeting_id: str
    member_id: str


class FloorGiven(EventPayload):
    """The chair gives the floor to someone (from the queue or not); whoever spoke before stops."""

    type = "floor.given"
    meeting_id: str
    member_id: str


class FloorEnded(EventPayload):
    """The person speaking has finished (or the chair takes the floor back)."""

    type = "floor.ended"
    meeting_id: str
    member_id: str


class SpeakingLimitSet(EventPayload):
    """How long one turn to speak may last: the meeting's default (no ``item_id``) or one agenda
    item's override; ``seconds=None`` removes it (no limit, or the meeting's default again)."""

    type = "floor.limit_set"
    meeting_id: str
    item_id: str | None = None
    seconds: int | None = Field(None, ge=10, le=3600)


class RoomDeviceChanged(EventPayload):
    """A microphone or camera of the meeting's room was lost or came back (the chair is told; the
    minutes can say which part of the meeting a device missed)."""

    type = "room.device_changed"
    meeting_id: str
    device: Name
    kind: Literal["microphone", "camera", "loudspeaker"]
    state: Literal["connected", "lost"]
    detail: LongText | None = None


class InvitationCreated(EventPayload):
    """A participant was sent a link into the meeting (only the token's SHA-256 is kept); without a
    member, a link for the hall's display (the meeting's public view, read-only)."""

    type = "meeting.invitation_created"
    meeting_id: str
    invitation_id: str
    member_id: str | None
    token_hash: str = Field(min_length=64, max_length=64)
    expires_at: AwareDatetime
    # the member's links not yet opened, which no longer open: a new link is sent because the last one
    # went astray (a wrong address, a lost phone), and it should not stay a way in
    replaces: list[str] = Field(default_factory=list, max_length=1000)

    @classmethod
    def public_data(cls, data: dict[str, Any], overseer: bool) -> dict[str, Any]:
        """The token's hash stays in the log (it proves which link opened a session) but no page needs it:
        a member who reads the meeting's events is not handed a value to test guessed links against."""
        return {k: v for k, v in data.items() if k != "token_hash"}


class InvitationRevoked(EventPayload):
    type = "meeting.invitation_revoked"
    meeting_id: str
    invitation_id: str


class InvitationUsed(EventPayload):
    """Someone opened the link (each opening is one event: the log shows how often and when)."""

    type = "meeting.invitation_used"
    meeting_id: str
    invitation_id: str


class DocumentAttached(EventPayload):
    type = "document.attached"
    meeting_id: str
    document_id: str
    agenda_item_id: str
    title: Title
    filename: Name
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0)
    pages: int = Field(gt=0)
    replaces: str | None = None  # the document this new file takes the place of (removed in the same write)


class DocumentRemoved(EventPayload):
    type = "document.removed"
    meeting_id: str
    document_id: str


class DocumentRenamed(EventPayload):
    """The title a document shows (a file name gives one without diacritics: "To trinh du toan")."""

    type = "document.renamed"
    meeting_id: str
    document_id: str
    title: Title


class UnknownFacesSeen(EventPayload):
    """How many faces a camera sees that match no participant (no image is kept)."""

    type = "attendance.unknown_faces"
    meeting_id: str
    camera: Name
    count: int = Field(ge=0)


class AttendanceRecorded(EventPayload):
    type = "attendance.recorded"
    meeting_id: str
    member_id: str
    status: AttendanceStatus
    source: AttendanceSource
    reason: LongText | None = None
    confidence: float | None = Field(None, ge=0, le=1)
    camera: Name | None = None

    @classmethod
    def public_data(cls, data: dict[str, Any], overseer: bool) -> dict[str, Any]:
        """An excused absence's reason (an illness, a family matter) is read by the meeting's officers
        and record keepers, as a reply's is; the others see the status."""
        return data if overseer else {k: v for k, v in data.items() if k != "reason"}


class OnlineFaceChecked(EventPayload):
    """A remote participant's own camera, compared with the faces enrolled (with consent): it showed
    the member (confirmed) or not (mismatch: ``looks_like`` is the other participant it matched, or
    None when it matched nobody). Only a warning: the attendance record itself is unchanged."""

    type = "attendance.online_face_checked"
    meeting_id: str
    member_id: str
    result: FaceCheck
    confidence: float | None = Field(None, ge=0, le=1)
    distance: float | None = Field(None, ge=0)
    looks_like: str | None = None


# --- polls -------------------------------------------------------------------------------------


class PollOptionSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    option_id: str = Field(min_length=1, max_length=36)
    label: Name


class RuleSpec(BaseModel):
    """A preset name, or the parts of a custom rule (base, threshold like "> 1/2", quorum)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    preset: str | None = None
    base: str | None = None
    threshold: str | None = None
    quorum: str | None = None


class PollCreated(EventPayload):
    type = "poll.created"
    meeting_id: str
    poll_id: str
    agenda_item_id: str | None = None
    title: Title
    description: LongText | None = None
    kind: PollKind
    options: list[PollOptionSpec]
    seats: int | None = None
    min_choices: int
    max_choices: int
    secrecy: Secrecy
    eligibility: Eligibility
    allow_change: bool
    rule: RuleSpec
    # An opinion asked before the meeting (xin ý kiến): open while it is scheduled, until a deadline.
    before_meeting: bool = False
    document_id: str | None = None  # the draft the opinions are about


class PollOpened(EventPayload):
    """The electorate is fixed here: who may vote, and the counts the rule is applied to."""

    type = "poll.opened"
    meeting_id: str
    poll_id: str
    eligible: list[str]
    members: int = Field(ge=0)
    present: int = Field(ge=0)
    closes_at: AwareDatetime | None = None
    # Secret polls: the public key ballots are sealed to, and the two tellers whose keys hold its private half.
    ballot_key: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    tellers: list[str] | None = None


class BallotCast(EventPayload):
    """Who voted, never what: the choice is sealed (secret polls) or kept in the ballot box (named) and
    enters the log when the poll closes."""

    type = "poll.ballot_cast"
    meeting_id: str
    poll_id: str
    voter_id: str
    ballots_cast: int = Field(ge=1)
    eligible: int = Field(ge=1)
    replaced: bool = False


class BallotRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    receipt_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    selection: list[str]
    text: LongText | None = None
    voter_id: str | None = None  # named polls only


class PollClosed(EventPayload):
    """Every ballot, in ``published_order`` (no cast order, no time), and the result computed from them
    (events logged before 2026-12 list them in receipt-hash order; their secret ballots are shown in
    ``published_order`` too)."""

    type = "poll.closed"
    meeting_id: str
    poll_id: str
    by_timer: bool = False
    ballots: list[BallotRecord]
    result: dict[str, Any]

    @classmethod
    def public_data(cls, data: dict[str, Any], overseer: bool) -> dict[str, Any]:
        """Members see the count when the chair publishes it (``GET …/polls/{id}``), not in this event;
        its overseers see it now. A secret ballot is shown without its receipt hash: whoever is handed a
        voter's receipt could otherwise hash it and find the choice (its voter asks the receipt check)."""
        ballots = data.get("ballots", [])
        if not overseer:
            return {"meeting_id": data["meeting_id"], "poll_id": data["poll_id"], "by_timer": data.get("by_timer", False)}
        if not ballots or any(b.get("voter_id") for b in ballots):
            return data
        ordered = sorted(ballots, key=lambda b: published_order(b["selection"], b.get("text"), b["receipt_hash"]))
        return {**data, "ballots": [{k: v for k, v in b.items() if k != "receipt_hash"} for b in ordered]}


class PollPublished(EventPayload):
    type = "poll.published"
    meeting_id: str
    poll_id: str


class PollCancelled(EventPayload):
    type = "poll.cancelled"
    meeting_id: str
    poll_id: str
    from_state: PollState
    reason: LongText | None = None


# --- recordings and transcripts ----------------------------------------------------------------


class RecordingAdded(EventPayload):
    """A meeting recording stored on the server (content-addressed by its SHA-256)."""

    type = "recording.added"
    meeting_id: str
    recording_id: str
    filename: Name
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=1)
    duration_s: float = Field(ge=0)
    channels: int = Field(ge=1)


class TranscriptPassStarted(EventPayload):
    """A transcription of the meeting: ``live`` (captions as people speak) or ``final`` (the recording
    re-transcribed with the better model after the meeting; when complete it replaces the draft)."""

    type = "transcript.pass_started"
    meeting_id: str
    pass_id: str
    kind: Literal["live", "final"]
    model: Name
    recording_id: str | None = None
    diarization: Name | None = None


class SpeakerSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    cluster: str = Field(min_length=1, max_length=64)
    name: Name
    member_id: str | None = None
    score: float | None = None
    source: Literal["voice", "channel", "remote", "anonymous", "chair"]


class TranscriptSpeakers(EventPayload):
    """Speakers of a pass, with how each was named (voiceprint, microphone channel, remote participant)."""

    type = "transcript.speakers"
    meeting_id: str
    pass_id: str
    speakers: list[SpeakerSpec]


class TranscriptSegment(EventPayload):
    """One final line of transcript: times in seconds from the start of the pass's audio."""

    type = "transcript.segment"
    meeting_id: str
    pass_id: str
    segment_id: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: LongText
    cluster: str | None = None
    channel: int | None = None
    confidence: float = Field(ge=0, le=1)
    words: list[tuple[float, float, str, float]] = []  # start, end, word, probability


class TranscriptPassEnded(EventPayload):
    type = "transcript.pass_ended"
    meeting_id: str
    pass_id: str
    state: Literal["completed", "failed", "stopped"]
    segments: int = Field(ge=0)
    audio_s: float = Field(0.0, ge=0)
    error: LongText | None = None


class SpeakerRelabelled(EventPayload):
    """The chair or secretary names a speaker; every line of that cluster follows."""

    type = "transcript.speaker_relabelled"
    meeting_id: str
    pass_id: str
    cluster: str
    name: Name
    member_id: str | None = None


# --- minutes, signatures, archive --------------------------------------------------------------


class MinutesSection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    item_id: str
    text: LongText


class MinutesSaved(EventPayload):
    """One version of the minutes' editable text (the rest comes from the meeting record)."""

    type = "minutes.saved"
    meeting_id: str
    version: int = Field(ge=1)
    number: ShortText
    place: Name | None = None
    opening: LongText | None = None
    closing: LongText | None = None
    recipients: list[Name] = []
    sections: list[MinutesSection]
    generated: bool = False  # the automatic first draft, not a person's edit

    @classmethod
    def public_data(cls, data: dict[str, Any], overseer: bool) -> dict[str, Any]:
        """The text is a draft that only the meeting's overseers read until it is signed (then everyone
        reads the minutes themselves, ``GET …/minutes``); others see that a version was saved."""
        if overseer:
            return data
        return {"meeting_id": data["meeting_id"], "version": data["version"], "generated": data.get("generated", False)}


class CertificateRegistered(EventPayload):
    """A member's signing certificate (the PKCS#12 file itself stays outside the log)."""

    type = "member.certificate_registered"
    member_id: str
    fingerprint_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    common_name: Name
    issuer: LongText
    not_before: AwareDatetime
    not_after: AwareDatetime


class SignatureImageSet(EventPayload):
    """A member's signature image or a body's seal image (the PNG lies in the data directory by hash)."""

    type = "signature_image.set"
    kind: Literal["signature", "seal"]
    owner_id: str  # the member (signature) or the body (seal)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    width: int = Field(ge=1)
    height: int = Field(ge=1)


class SignatureImageRemoved(EventPayload):
    type = "signature_image.removed"
    kind: Literal["signature", "seal"]
    owner_id: str


class MinutesSigningPrepared(EventPayload):
    """The PDF handed out to a signer who signs on their own computer; the upload must be it plus one signature."""

    type = "minutes.signing_prepared"
    meeting_id: str
    version: int = Field(ge=1)
    role: Literal["secretary", "chair"]
    member_id: str
    source_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class MinutesSigned(EventPayload):
    type = "minutes.signed"
    meeting_id: str
    version: int = Field(ge=1)
    role: Literal["secretary", "chair"]
    member_id: str
    fingerprint_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    signed_from_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")  # the PDF that was signed
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")  # the PDF with this signature added
    size: int = Field(gt=0)
    timestamped: bool = False


class NoticeSaved(EventPayload):
    """One version of the conclusion notice's editable text: the chair's conclusion per agenda item."""

    type = "notice.saved"
    meeting_id: str
    version: int = Field(ge=1)
    number: ShortText
    locality: Name | None = None
    authority: Name | None = None
    recipients: list[Name] = []
    items: list[MinutesSection]
    generated: bool = False  # the automatic first draft, not a person's edit

    @classmethod
    def public_data(cls, data: dict[str, Any], overseer: bool) -> dict[str, Any]:
        """A draft, like the minutes' (``MinutesSaved``): its text is for the overseers until it is signed."""
        if overseer:
            return data
        return {"meeting_id": data["meeting_id"], "version": data["version"], "generated": data.get("generated", False)}


class NoticeSigned(EventPayload):
    """The chair signed the conclusion notice (the notice's only signature)."""

    type = "notice.signed"
    meeting_id: str
    version: int = Field(ge=1)
    member_id: str
    fingerprint_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    signed_from_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0)
    timestamped: bool = False


class ArchiveSealed(EventPayload):
    """The meeting's record written once; the manifest's hash ties the files to this chain."""

    type = "archive.sealed"
    meeting_id: str
    manifest_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    files: int = Field(ge=1)
    size: int = Field(ge=0)

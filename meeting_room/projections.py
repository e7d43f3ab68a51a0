"""Read models derived from events: one ``apply`` per event type.

Projection never decides anything: the decision was made (and checked) before the event was
appended. Replaying the whole log through ``apply`` rebuilds identical read models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.db import tables as t
from meeting_room.lifecycle import RUNNING, MeetingState
from meeting_room.reads import search_index
from meeting_room.roles import MeetingRole
from voting import PollState

if TYPE_CHECKING:
    from meeting_room.chain import StoredEvent


@dataclass(frozen=True)
class Meta:
    """What the handlers need of the event's envelope."""

    at: datetime
    actor_id: str | None


_Handler = Callable[[Session, Any, Meta], None]
_HANDLERS: dict[type[ev.EventPayload], _Handler] = {}


def _on(payload_type: type[ev.EventPayload]) -> Callable[[_Handler], _Handler]:
    def register(fn: _Handler) -> _Handler:
        _HANDLERS[payload_type] = fn
        return fn

    return register


# A run of events of one kind in a row (a hall's ballots decided together) written at once: the
# same read models as that kind's ``_on`` handler applied to each in turn (a rebuild does that).
_ManyHandler = Callable[[Session, list[tuple[Any, Meta]]], None]
_MANY: dict[type[ev.EventPayload], _ManyHandler] = {}


def _on_many(payload_type: type[ev.EventPayload]) -> Callable[[_ManyHandler], _ManyHandler]:
    def register(fn: _ManyHandler) -> _ManyHandler:
        _MANY[payload_type] = fn
        return fn

    return register


def _meta(stored: StoredEvent) -> Meta:
    return Meta(datetime.fromisoformat(stored.occurred_at), stored.actor_id)


def apply(session: Session, payload: ev.EventPayload, stored: StoredEvent) -> None:
    meta = _meta(stored)
    _HANDLERS[type(payload)](session, payload, meta)
    _mark_meeting(session, payload, stored, meta)
    session.flush()
    _reindex(session, [payload])


def apply_all(session: Session, linked: Sequence[tuple[ev.EventPayload, StoredEvent]]) -> None:
    """``apply`` each in order; a run of one kind that has an ``_on_many`` handler is written at once."""
    start = 0
    while start < len(linked):
        kind, end = type(linked[start][0]), start + 1
        while end < len(linked) and type(linked[end][0]) is kind:
            end += 1
        many = _MANY.get(kind)
        if many is None or end - start == 1:
            for payload, stored in linked[start:end]:
                apply(session, payload, stored)
        else:
            run = [(payload, _meta(stored)) for payload, stored in linked[start:end]]
            many(session, run)
            for (payload, stored), (_, meta) in zip(linked[start:end], run, strict=True):
                _mark_meeting(session, payload, stored, meta)
            session.flush()
            _reindex(session, [payload for payload, _ in run])
        start = end


def _mark_meeting(session: Session, payload: ev.EventPayload, stored: StoredEvent, meta: Meta) -> None:
    meeting_id = payload.meeting_scope
    if meeting_id is not None:
        meeting = session.get(t.Meeting, meeting_id)
        if meeting is not None:
            meeting.last_seq = stored.seq
            if _changes_content(payload):
                meeting.changed_at = meta.at


def _reindex(session: Session, payloads: list[ev.EventPayload]) -> None:
    for meeting_id in dict.fromkeys(p.meeting_scope for p in payloads if p.meeting_scope is not None and _changes_search(p)):
        search_index.reindex_meeting(session, meeting_id)
        session.flush()


# What the search documents are made of: the current transcript, speaker names, the agenda and its
# timing, the votes held and their outcomes, the newest minutes, and whether the meeting still counts.
_SEARCH_INPUTS = (
    ev.TranscriptPassEnded,
    ev.SpeakerRelabelled,
    ev.MinutesSaved,
    ev.PollClosed,
    ev.PollPublished,
    ev.PollCancelled,
    ev.AgendaItemAdded,
    ev.AgendaItemUpdated,
    ev.AgendaItemRemoved,
)


def _changes_search(payload: ev.EventPayload) -> bool:
    if isinstance(payload, ev.MeetingStateChanged):
        return payload.to_state in (MeetingState.CLOSED, MeetingState.CANCELLED)
    return isinstance(payload, _SEARCH_INPUTS)


# What a participant reads ahead: the meeting's details, its agenda and its documents. A change to
# them after the invitation went out marks the meeting "changed since you looked" on the home page.
_CONTENT_INPUTS = (
    ev.MeetingUpdated,
    ev.AgendaItemAdded,
    ev.AgendaItemUpdated,
    ev.AgendaItemRemoved,
    ev.AgendaReordered,
    ev.DocumentAttached,
    ev.DocumentRemoved,
    ev.DocumentRenamed,
)


def _changes_content(payload: ev.EventPayload) -> bool:
    if isinstance(payload, ev.MeetingStateChanged):
        return payload.to_state is MeetingState.CANCELLED
    return isinstance(payload, _CONTENT_INPUTS)


def _copy_set_fields(row: object, payload: ev.EventPayload, skip: set[str], rename: dict[str, str] | None = None) -> None:
    """Copy the fields the event explicitly set (an explicit null clears a value)."""
    for name in payload.model_fields_set - skip:
        setattr(row, (rename or {}).get(name, name), getattr(payload, name))


@_on(ev.BodyCreated)
def _body_created(s: Session, p: ev.BodyCreated, m: Meta) -> None:
    s.add(t.Body(id=p.body_id, name=p.name, short_name=p.short_name, parent_name=p.parent_name, kind=p.kind.value, created_at=m.at))


@_on(ev.BodyUpdated)
def _body_updated(s: Session, p: ev.BodyUpdated, m: Meta) -> None:
    _copy_set_fields(s.get_one(t.Body, p.body_id), p, {"body_id"})


@_on(ev.MemberCreated)
def _member_created(s: Session, p: ev.MemberCreated, m: Meta) -> None:
    s.add(
        t.Member(
            id=p.member_id,
            body_id=p.body_id,
            full_name=p.full_name,
            title=p.title,
            roles=[r.value for r in p.roles],
            username=p.username,
            email=p.email,
            active=True,
            created_at=m.at,
            biometric_consent=False,
            faces_enrolled=0,
        )
    )


@_on(ev.MemberUpdated)
def _member_updated(s: Session, p: ev.MemberUpdated, m: Meta) -> None:
    member = s.get_one(t.Member, p.member_id)
    _copy_set_fields(member, p, {"member_id", "roles"})
    if p.roles is not None:
        member.roles = [r.value for r in p.roles]


@_on(ev.BiometricConsent)
def _biometric_consent(s: Session, p: ev.BiometricConsent, m: Meta) -> None:
    member = s.get_one(t.Member, p.member_id)
    member.biometric_consent, member.biometric_consent_at = p.given, m.at
    member.biometric_consent_note = p.note if p.given else None


@_on(ev.FaceEnrolled)
def _face_enrolled(s: Session, p: ev.FaceEnrolled, m: Meta) -> None:
    member = s.get_one(t.Member, p.member_id)
    member.faces_enrolled = (member.faces_enrolled or 0) + 1


@_on(ev.VoiceEnrolled)
def _voice_enrolled(s: Session, p: ev.VoiceEnrolled, m: Meta) -> None:
    member = s.get_one(t.Member, p.member_id)
    member.voices_enrolled = (member.voices_enrolled or 0) + 1


@_on(ev.BiometricsDeleted)
def _biometrics_deleted(s: Session, p: ev.BiometricsDeleted, m: Meta) -> None:
    member = s.get_one(t.Member, p.member_id)
    member.faces_enrolled = 0
    member.voices_enrolled = 0


@_on(ev.UnknownFacesSeen)
def _unknown_faces(s: Session, p: ev.UnknownFacesSeen, m: Meta) -> None:
    meeting = s.get_one(t.Meeting, p.meeting_id)
    meeting.unknown_faces = {**(meeting.unknown_faces or {}), p.camera: p.count}


@_on(ev.RoomDeviceChanged)
def _room_device_changed(s: Session, p: ev.RoomDeviceChanged, m: Meta) -> None:
    meeting = s.get_one(t.Meeting, p.meeting_id)
    entry = {"kind": p.kind, "state": p.state, "detail": p.detail, "since": m.at.isoformat()}
    meeting.devices = {**(meeting.devices or {}), p.device: entry}


@_on(ev.InvitationCreated)
def _invitation_created(s: Session, p: ev.InvitationCreated, m: Meta) -> None:
    s.add(t.Invitation(id=p.invitation_id, meeting_id=p.meeting_id, member_id=p.member_id, token_hash=p.token_hash,
                       created_at=m.at, created_by=m.actor_id, expires_at=p.expires_at))  # fmt: skip
    for replaced in p.replaces:  # never opened: no session to end
        invitation = s.get_one(t.Invitation, replaced)
        invitation.revoked_at, invitation.replaced_by = m.at, p.invitation_id


@_on(ev.InvitationRevoked)
def _invitation_revoked(s: Session, p: ev.InvitationRevoked, m: Meta) -> None:
    invitation = s.get_one(t.Invitation, p.invitation_id)
    invitation.revoked_at = m.at
    # the sessions opened from this link end with it: not their own log-ins, nor a session from another
    # link of theirs (a link opened at a wrong address is revoked, the one sent again stays); sessions
    # from before sessions named their link (NULL) end with any of that member's links in the meeting
    # that was revoked after they were opened (a replay, ``rebuild``, which ``upgrade`` runs, ended the
    # member's sessions from later links: an attacker's probe)
    opened_from_it = (t.AuthSession.invitation_id == p.invitation_id) | (
        t.AuthSession.invitation_id.is_(None)
        & (t.AuthSession.meeting_id == p.meeting_id)
        & (t.AuthSession.member_id == invitation.member_id)
        & (t.AuthSession.created_at <= m.at)
    )
    s.execute(delete(t.AuthSession).where(opened_from_it))


@_on(ev.InvitationUsed)
def _invitation_used(s: Session, p: ev.InvitationUsed, m: Meta) -> None:
    invitation = s.get_one(t.Invitation, p.invitation_id)
    invitation.used_at = invitation.used_at or m.at  # the first opening


@_on(ev.MemberPasswordSet)
def _member_password_set(s: Session, p: ev.MemberPasswordSet, m: Meta) -> None:
    """Credentials are not a read model; the event only records that it happened."""


def _set_seats(s: Session, room_id: str, seats: list[ev.SeatSpec]) -> None:
    occupants = {
        seat_id: member_id for seat_id, member_id in s.execute(select(t.Seat.id, t.Seat.member_id).where(t.Seat.room_id == room_id))
    }
    s.execute(delete(t.Seat).where(t.Seat.room_id == room_id))
    s.flush()
    for seat in seats:  # a seat kept (same id) keeps its usual occupant
        s.add(t.Seat(id=seat.seat_id, room_id=room_id, label=seat.label, position=seat.position, member_id=occupants.get(seat.seat_id)))


@_on(ev.SeatOccupantSet)
def _seat_occupant_set(s: Session, p: ev.SeatOccupantSet, m: Meta) -> None:
    s.get_one(t.Seat, p.seat_id).member_id = p.member_id


@_on(ev.RoomCreated)
def _room_created(s: Session, p: ev.RoomCreated, m: Meta) -> None:
    s.add(t.Room(id=p.room_id, name=p.name, location=p.location))
    s.flush()
    _set_seats(s, p.room_id, p.seats)


@_on(ev.RoomUpdated)
def _room_updated(s: Session, p: ev.RoomUpdated, m: Meta) -> None:
    _copy_set_fields(s.get_one(t.Room, p.room_id), p, {"room_id", "seats"})
    if p.seats is not None:
        _set_seats(s, p.room_id, p.seats)


@_on(ev.MeetingScheduled)
def _meeting_scheduled(s: Session, p: ev.MeetingScheduled, m: Meta) -> None:
    s.add(
        t.Meeting(
            id=p.meeting_id,
            body_id=p.body_id,
            title=p.title,
            room_id=p.room_id,
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            state=MeetingState.SCHEDULED.value,
            chair_id=p.chair_id,
            secretary_id=p.secretary_id,
            created_at=m.at,
            state_changed_at=m.at,
            last_seq=0,
        )
    )


@_on(ev.MeetingUpdated)
def _meeting_updated(s: Session, p: ev.MeetingUpdated, m: Meta) -> None:
    meeting = s.get_one(t.Meeting, p.meeting_id)
    for field in ("chair_id", "secretary_id"):  # the one replaced stays on as an ordinary member
        old = getattr(meeting, field)
        if field in p.model_fields_set and old is not None and old != getattr(p, field):
            row = s.get(t.Participant, (meeting.id, old))
            if row is not None:
                row.role = MeetingRole.MEMBER.value
    _copy_set_fields(meeting, p, {"meeting_id"})


@_on(ev.MeetingStateChanged)
def _meeting_state_changed(s: Session, p: ev.MeetingStateChanged, m: Meta) -> None:
    meeting = s.get_one(t.Meeting, p.meeting_id)
    meeting.state = p.to_state.value
    meeting.state_changed_at = m.at
    if p.to_state is MeetingState.IN_SESSION and meeting.started_at is None:
        meeting.started_at = m.at
    if p.to_state is MeetingState.CLOSED:
        meeting.closed_at = m.at
    if p.to_state is MeetingState.CANCELLED:
        meeting.cancel_reason = p.reason
    if p.to_state not in RUNNING:  # a closed or cancelled meeting has nobody waiting to speak
        meeting.floor_queue, meeting.floor_speaker = None, None


@_on(ev.MeetingPublished)
def _meeting_published(s: Session, p: ev.MeetingPublished, m: Meta) -> None:
    s.get_one(t.Meeting, p.meeting_id).published_at = m.at


@_on(ev.ParticipantAdded)
def _participant_added(s: Session, p: ev.ParticipantAdded, m: Meta) -> None:
    row = s.get(t.Participant, (p.meeting_id, p.member_id))
    if row is None:
        s.add(t.Participant(meeting_id=p.meeting_id, member_id=p.member_id, role=p.role.value))
    else:
        row.role = p.role.value


@_on(ev.ParticipantRemoved)
def _participant_removed(s: Session, p: ev.ParticipantRemoved, m: Meta) -> None:
    s.execute(delete(t.Participant).where(t.Participant.meeting_id == p.meeting_id, t.Participant.member_id == p.member_id))
    # whoever no longer attends leaves the seat they were given: it goes back to its usual occupant
    s.execute(delete(t.MeetingSeat).where(t.MeetingSeat.meeting_id == p.meeting_id, t.MeetingSeat.member_id == p.member_id))


@_on(ev.MeetingSeatAssigned)
def _meeting_seat_assigned(s: Session, p: ev.MeetingSeatAssigned, m: Meta) -> None:
    s.merge(t.MeetingSeat(meeting_id=p.meeting_id, seat_id=p.seat_id, member_id=p.member_id))


@_on(ev.MeetingSeatReset)
def _meeting_seat_reset(s: Session, p: ev.MeetingSeatReset, m: Meta) -> None:
    s.execute(delete(t.MeetingSeat).where(t.MeetingSeat.meeting_id == p.meeting_id, t.MeetingSeat.seat_id == p.seat_id))


@_on(ev.InvitationReplied)
def _invitation_replied(s: Session, p: ev.InvitationReplied, m: Meta) -> None:
    row = s.get(t.InvitationReply, (p.meeting_id, p.member_id))
    if row is None:
        row = t.InvitationReply(meeting_id=p.meeting_id, member_id=p.member_id)
        s.add(row)
    row.answer, row.reason, row.deputy_id, row.replied_at = p.answer.value, p.reason, p.deputy_id, m.at


@_on(ev.AgendaItemAdded)
def _agenda_item_added(s: Session, p: ev.AgendaItemAdded, m: Meta) -> None:
    s.add(
        t.AgendaItem(
            id=p.item_id,
            meeting_id=p.meeting_id,
            position=p.position,
            title=p.title,
            description=p.description,
            presenter_id=p.presenter_id,
        )
    )


@_on(ev.AgendaItemUpdated)
def _agenda_item_updated(s: Session, p: ev.AgendaItemUpdated, m: Meta) -> None:
    _copy_set_fields(s.get_one(t.AgendaItem, p.item_id), p, {"meeting_id", "item_id"})


@_on(ev.AgendaItemRemoved)
def _agenda_item_removed(s: Session, p: ev.AgendaItemRemoved, m: Meta) -> None:
    s.execute(delete(t.Document).where(t.Document.agenda_item_id == p.item_id))
    s.execute(delete(t.AgendaItem).where(t.AgendaItem.id == p.item_id))
    _renumber(s, p.meeting_id, None)


@_on(ev.AgendaReordered)
def _agenda_reordered(s: Session, p: ev.AgendaReordered, m: Meta) -> None:
    _renumber(s, p.meeting_id, p.item_ids)


def _renumber(s: Session, meeting_id: str, order: list[str] | None) -> None:
    items = list(s.scalars(select(t.AgendaItem).where(t.AgendaItem.meeting_id == meeting_id).order_by(t.AgendaItem.position)))
    if order is not None:
        rank = {item_id: i for i, item_id in enumerate(order)}
        items.sort(key=lambda item: rank[item.id])
    for position, item in enumerate(items, start=1):
        item.position = position


@_on(ev.DocumentAttached)
def _document_attached(s: Session, p: ev.DocumentAttached, m: Meta) -> None:
    s.add(
        t.Document(
            id=p.document_id,
            meeting_id=p.meeting_id,
            agenda_item_id=p.agenda_item_id,
            title=p.title,
            filename=p.filename,
            sha256=p.sha256,
            size=p.size,
            pages=p.pages,
            uploaded_at=m.at,
            uploaded_by=m.actor_id,
        )
    )


@_on(ev.DocumentRemoved)
def _document_removed(s: Session, p: ev.DocumentRemoved, m: Meta) -> None:
    s.execute(delete(t.Document).where(t.Document.id == p.document_id))


@_on(ev.DocumentRenamed)
def _document_renamed(s: Session, p: ev.DocumentRenamed, m: Meta) -> None:
    s.get_one(t.Document, p.document_id).title = p.title


@_on(ev.AttendanceRecorded)
def _attendance_recorded(s: Session, p: ev.AttendanceRecorded, m: Meta) -> None:
    row = s.get(t.Attendance, (p.meeting_id, p.member_id))
    if row is None:
        row = t.Attendance(meeting_id=p.meeting_id, member_id=p.member_id)
        s.add(row)
    row.status, row.source, row.reason = p.status.value, p.source.value, p.reason
    row.confidence, row.camera = p.confidence, p.camera
    row.recorded_at, row.recorded_by = m.at, m.actor_id
    if p.status.present and row.first_present_at is None:
        row.first_present_at = m.at


@_on(ev.OnlineFaceChecked)
def _online_face_checked(s: Session, p: ev.OnlineFaceChecked, m: Meta) -> None:
    row = s.get(t.Attendance, (p.meeting_id, p.member_id))
    if row is not None:  # the service checks it is: a member on a call
        row.face_check, row.face_check_at, row.face_check_looks_like = p.result.value, m.at, p.looks_like


@_on(ev.PollCreated)
def _poll_created(s: Session, p: ev.PollCreated, m: Meta) -> None:
    s.add(
        t.Poll(
            id=p.poll_id,
            meeting_id=p.meeting_id,
            agenda_item_id=p.agenda_item_id,
            title=p.title,
            description=p.description,
            kind=p.kind.value,
            options=[o.model_dump() for o in p.options],
            seats=p.seats,
            min_choices=p.min_choices,
            max_choices=p.max_choices,
            secrecy=p.secrecy.value,
            eligibility=p.eligibility.value,
            allow_change=p.allow_change,
            rule=p.rule.model_dump(),
            state=PollState.CREATED.value,
            created_at=m.at,
            created_by=m.actor_id,
            ballots_cast=0,
            before_meeting=p.before_meeting,
            document_id=p.document_id,
        )
    )


@_on(ev.PollOpened)
def _poll_opened(s: Session, p: ev.PollOpened, m: Meta) -> None:
    poll = s.get_one(t.Poll, p.poll_id)
    poll.state, poll.opened_at, poll.closes_at = PollState.OPEN.value, m.at, p.closes_at
    poll.members, poll.present, poll.eligible_count = p.members, p.present, len(p.eligible)
    poll.ballot_key = p.ballot_key
    s.add_all(t.PollEligible(poll_id=p.poll_id, member_id=member_id) for member_id in p.eligible)


@_on(ev.BallotCast)
def _ballot_cast(s: Session, p: ev.BallotCast, m: Meta) -> None:
    if not p.replaced:  # the primary key refuses a second ballot from the same member
        s.add(t.PollVoter(poll_id=p.poll_id, member_id=p.voter_id))
    s.get_one(t.Poll, p.poll_id).ballots_cast = p.ballots_cast


@_on_many(ev.BallotCast)
def _ballots_cast(s: Session, run: list[tuple[ev.BallotCast, Meta]]) -> None:
    voters = [{"poll_id": p.poll_id, "member_id": p.voter_id} for p, _ in run if not p.replaced]
    if voters:  # one statement for the run; the primary key still refuses a second ballot
        s.execute(insert(t.PollVoter), voters)
    for p, _ in run:
        s.get_one(t.Poll, p.poll_id).ballots_cast = p.ballots_cast


@_on(ev.PollClosed)
def _poll_closed(s: Session, p: ev.PollClosed, m: Meta) -> None:
    poll = s.get_one(t.Poll, p.poll_id)
    poll.state, poll.closed_at, poll.result, poll.ballots_cast = PollState.CLOSED.value, m.at, p.result, len(p.ballots)
    s.add_all(
        t.Ballot(poll_id=p.poll_id, receipt_hash=b.receipt_hash, selection=b.selection, text=b.text, voter_id=b.voter_id) for b in p.ballots
    )
    _empty_ballot_box(s, p.poll_id)


def _empty_ballot_box(s: Session, poll_id: str) -> None:
    """The uncounted ballots and the poll's key shares go when the poll closes (not derived: a no-op on rebuild)."""
    for table in (t.BallotBox, t.SealedBallot, t.PollKeyShare):
        s.execute(delete(table).where(table.poll_id == poll_id))


@_on(ev.PollPublished)
def _poll_published(s: Session, p: ev.PollPublished, m: Meta) -> None:
    poll = s.get_one(t.Poll, p.poll_id)
    poll.state, poll.published_at = PollState.PUBLISHED.value, m.at


@_on(ev.PollCancelled)
def _poll_cancelled(s: Session, p: ev.PollCancelled, m: Meta) -> None:
    poll = s.get_one(t.Poll, p.poll_id)
    poll.state, poll.cancel_reason = PollState.CANCELLED.value, p.reason
    _empty_ballot_box(s, p.poll_id)  # never counted, never kept
    s.execute(delete(t.ReceiptCheck).where(t.ReceiptCheck.poll_id == p.poll_id))


@_on(ev.RecordingAdded)
def _recording_added(s: Session, p: ev.RecordingAdded, m: Meta) -> None:
    s.add(
        t.Recording(
            id=p.recording_id,
            meeting_id=p.meeting_id,
            filename=p.filename,
            sha256=p.sha256,
            size=p.size,
            duration_s=p.duration_s,
            channels=p.channels,
            added_at=m.at,
            added_by=m.actor_id,
        )
    )


@_on(ev.TranscriptPassStarted)
def _pass_started(s: Session, p: ev.TranscriptPassStarted, m: Meta) -> None:
    s.add(
        t.TranscriptPass(
            id=p.pass_id,
            meeting_id=p.meeting_id,
            kind=p.kind,
            model=p.model,
            recording_id=p.recording_id,
            diarization=p.diarization,
            state="running",
            segments=0,
            progress_s=0.0,
            audio_s=0.0,
            started_at=m.at,
        )
    )


@_on(ev.TranscriptSpeakers)
def _speakers(s: Session, p: ev.TranscriptSpeakers, m: Meta) -> None:
    for spec in p.speakers:
        row = s.get(t.TranscriptSpeaker, (p.pass_id, spec.cluster))
        if row is None:
            row = t.TranscriptSpeaker(pass_id=p.pass_id, cluster=spec.cluster)
            s.add(row)
        row.name, row.member_id, row.score, row.source = spec.name, spec.member_id, spec.score, spec.source


@_on(ev.TranscriptSegment)
def _segment(s: Session, p: ev.TranscriptSegment, m: Meta) -> None:
    s.add(
        t.TranscriptLine(
            id=p.segment_id,
            pass_id=p.pass_id,
            meeting_id=p.meeting_id,
            start=p.start,
            end=p.end,
            text=p.text,
            cluster=p.cluster,
            channel=p.channel,
            confidence=p.confidence,
            words=[list(w) for w in p.words],
        )
    )
    run = s.get_one(t.TranscriptPass, p.pass_id)
    run.segments = (run.segments or 0) + 1
    run.progress_s = max(run.progress_s or 0.0, p.end)


@_on(ev.TranscriptPassEnded)
def _pass_ended(s: Session, p: ev.TranscriptPassEnded, m: Meta) -> None:
    run = s.get_one(t.TranscriptPass, p.pass_id)
    run.state, run.ended_at, run.error, run.audio_s = p.state, m.at, p.error, p.audio_s


@_on(ev.SpeakerRelabelled)
def _relabelled(s: Session, p: ev.SpeakerRelabelled, m: Meta) -> None:
    row = s.get(t.TranscriptSpeaker, (p.pass_id, p.cluster))
    if row is None:
        row = t.TranscriptSpeaker(pass_id=p.pass_id, cluster=p.cluster, score=None)
        s.add(row)
    row.name, row.member_id, row.source = p.name, p.member_id, "chair"


@_on(ev.AgendaItemTaken)
def _agenda_item_taken(s: Session, p: ev.AgendaItemTaken, m: Meta) -> None:
    meeting = s.get_one(t.Meeting, p.meeting_id)
    meeting.current_item_id = p.item_id
    meeting.agenda_log = [*(meeting.agenda_log or []), [m.at.isoformat(), p.item_id]]


@_on(ev.FloorRequested)
def _floor_requested(s: Session, p: ev.FloorRequested, m: Meta) -> None:
    meeting = s.get_one(t.Meeting, p.meeting_id)
    meeting.floor_queue = [*(meeting.floor_queue or []), [p.member_id, m.at.isoformat()]]


@_on(ev.FloorWithdrawn)
def _floor_withdrawn(s: Session, p: ev.FloorWithdrawn, m: Meta) -> None:
    meeting = s.get_one(t.Meeting, p.meeting_id)
    meeting.floor_queue = [entry for entry in meeting.floor_queue or [] if entry[0] != p.member_id]


@_on(ev.FloorGiven)
def _floor_given(s: Session, p: ev.FloorGiven, m: Meta) -> None:
    meeting = s.get_one(t.Meeting, p.meeting_id)
    meeting.floor_queue = [entry for entry in meeting.floor_queue or [] if entry[0] != p.member_id]
    meeting.floor_speaker = [p.member_id, m.at.isoformat()]


@_on(ev.SpeakingLimitSet)
def _speaking_limit_set(s: Session, p: ev.SpeakingLimitSet, m: Meta) -> None:
    target = s.get_one(t.AgendaItem, p.item_id) if p.item_id else s.get_one(t.Meeting, p.meeting_id)
    target.speaking_limit_s = p.seconds


@_on(ev.FloorEnded)
def _floor_ended(s: Session, p: ev.FloorEnded, m: Meta) -> None:
    s.get_one(t.Meeting, p.meeting_id).floor_speaker = None


@_on(ev.MinutesSaved)
def _minutes_saved(s: Session, p: ev.MinutesSaved, m: Meta) -> None:
    s.add(
        t.MinutesVersion(
            meeting_id=p.meeting_id,
            version=p.version,
            number=p.number,
            place=p.place,
            opening=p.opening,
            closing=p.closing,
            recipients=list(p.recipients),
            sections=[section.model_dump() for section in p.sections],
            generated=p.generated,
            saved_by=m.actor_id,
            saved_at=m.at,
        )
    )


@_on(ev.CertificateRegistered)
def _certificate_registered(s: Session, p: ev.CertificateRegistered, m: Meta) -> None:
    row = s.get(t.SignerCertificate, p.member_id) or t.SignerCertificate(member_id=p.member_id)
    row.fingerprint_sha256, row.common_name, row.issuer = p.fingerprint_sha256, p.common_name, p.issuer
    row.not_before, row.not_after, row.registered_at = p.not_before, p.not_after, m.at
    s.add(row)


@_on(ev.SignatureImageSet)
def _signature_image_set(s: Session, p: ev.SignatureImageSet, m: Meta) -> None:
    row = s.get(t.SignatureImage, (p.kind, p.owner_id)) or t.SignatureImage(kind=p.kind, owner_id=p.owner_id)
    row.sha256, row.width, row.height, row.set_at = p.sha256, p.width, p.height, m.at
    s.add(row)


@_on(ev.SignatureImageRemoved)
def _signature_image_removed(s: Session, p: ev.SignatureImageRemoved, m: Meta) -> None:
    s.execute(delete(t.SignatureImage).where(t.SignatureImage.kind == p.kind, t.SignatureImage.owner_id == p.owner_id))


@_on(ev.MinutesSigningPrepared)
def _minutes_signing_prepared(s: Session, p: ev.MinutesSigningPrepared, m: Meta) -> None:
    pass  # only the log keeps it: ``services.minutes.accept_signed`` reads it back


@_on(ev.NoticeSaved)
@_on(ev.NoticeSigned)
def _notice(s: Session, p: ev.NoticeSaved | ev.NoticeSigned, m: Meta) -> None:
    pass  # only the log keeps the conclusion notice: ``services.notice`` reads it back (a few events a meeting)


@_on(ev.MinutesSigned)
def _minutes_signed(s: Session, p: ev.MinutesSigned, m: Meta) -> None:
    s.add(
        t.MinutesSignature(
            meeting_id=p.meeting_id,
            role=p.role,
            version=p.version,
            member_id=p.member_id,
            fingerprint_sha256=p.fingerprint_sha256,
            signed_from_sha256=p.signed_from_sha256,
            pdf_sha256=p.pdf_sha256,
            size=p.size,
            timestamped=p.timestamped,
            signed_at=m.at,
        )
    )


@_on(ev.ArchiveSealed)
def _archive_sealed(s: Session, p: ev.ArchiveSealed, m: Meta) -> None:
    s.add(t.ArchiveRecord(meeting_id=p.meeting_id, manifest_sha256=p.manifest_sha256, files=p.files, size=p.size, sealed_at=m.at))


_missing = set(ev.EVENT_TYPES.values()) - set(_HANDLERS)
if _missing:  # a new event type without a projection is a programming error, caught at import
    raise RuntimeError(f"events without a projection: {sorted(c.type for c in _missing)}")

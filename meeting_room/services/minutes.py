"""Minutes: the draft built from the meeting record, the secretary's versions, rendering and signing.

The record (attendance, polls, transcript, agenda) gives everything but the words of each section;
those the secretary edits, and every save is a new version in the log. Signing goes secretary
first, then chair, each on the PDF the previous step produced; the chair's signature makes the
minutes signed and seals the archive (``services.archive``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, meeting_role, oversees, require_minutes_reader, require_overseer, require_view
from meeting_room.attendance import AttendanceStatus
from meeting_room.auth import LoginThrottle
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.lifecycle import MeetingState, check_transition, require_state
from meeting_room.reads.transcript_reads import agenda_items_of, current_pass, lines
from meeting_room.roles import MINUTES_SIGNERS, MeetingRole, counts_as_member
from meeting_room.services import opinions, signature_images
from meeting_room.store import Store
from transcripts.errors import WrongSecretError
from transcripts.minutes import (
    Attendance,
    Attendee,
    Minutes,
    Person,
    PollTable,
    Section,
    TranscriptEntry,
    Turn,
    check_section_text,
    draft_text,
    merge_turns,
    poll_table,
)
from transcripts.pdf import RenderedMinutes, render_minutes
from transcripts.signature_images import ImageKind
from transcripts.signing import FIELD_NAMES, SignRequest, check_added_signature, sign_pdf
from transcripts.text import clean_line
from voting import COUNTED

log = logging.getLogger(__name__)
GENERAL = "general"  # the section for what was said outside any agenda item
GENERAL_TITLE = "Ý kiến phát biểu khác"
EDITING = frozenset({MeetingState.CLOSED})
ROLE_ORDER = MINUTES_SIGNERS


@dataclass(frozen=True)
class MinutesEdit:
    """The secretary's changes; a field left out keeps the previous version's value."""

    sections: dict[str, str] | None = None
    number: str | None = None
    place: str | None = None
    opening: str | None = None
    closing: str | None = None
    recipients: list[str] | None = None


# --- reading the record --------------------------------------------------------------------------


def _person(session: Session, member_id: str | None) -> Person | None:
    member = session.get(t.Member, member_id) if member_id else None
    return Person(member.full_name, member.title) if member else None


def _attendance(session: Session, meeting_id: str) -> Attendance:
    groups: dict[str, list[Attendee]] = defaultdict(list)
    rows = session.execute(
        select(t.Member.full_name, t.Member.title, t.Participant.role, t.Attendance.status, t.Attendance.reason, t.Member.roles)
        .select_from(t.Participant)
        .join(t.Member, t.Member.id == t.Participant.member_id)
        .outerjoin(
            t.Attendance, (t.Attendance.meeting_id == t.Participant.meeting_id) & (t.Attendance.member_id == t.Participant.member_id)
        )
        .where(t.Participant.meeting_id == meeting_id)
        .order_by(t.Member.full_name)
    )
    for name, title, role, status, reason, standing in rows:
        # who does not count as a member (a guest, a secretary who is no delegate) is listed only when present
        if not counts_as_member(role, standing or []) and (status is None or not AttendanceStatus(status).present):
            continue
        # a member nobody recorded was not seen: absent, reason unknown
        groups[status or AttendanceStatus.ABSENT_UNEXCUSED.value].append(Attendee(name, title, reason))
    return Attendance(
        in_room=tuple(groups[AttendanceStatus.PRESENT_IN_ROOM.value]),
        online=tuple(groups[AttendanceStatus.PRESENT_ONLINE.value]),
        absent_excused=tuple(groups[AttendanceStatus.ABSENT_EXCUSED.value]),
        absent_unexcused=tuple(groups[AttendanceStatus.ABSENT_UNEXCUSED.value]),
        left_early=tuple(groups[AttendanceStatus.LEFT.value]),
    )


def _polls(session: Session, meeting_id: str) -> dict[str | None, list[PollTable]]:
    out: dict[str | None, list[PollTable]] = defaultdict(list)
    query = (
        select(t.Poll)
        .where(t.Poll.meeting_id == meeting_id, t.Poll.state.in_(COUNTED), t.Poll.before_meeting.is_(False))  # opinions: their own lines
        .order_by(t.Poll.closed_at)
    )
    for poll in session.scalars(query):
        secret, opinion = poll.secrecy == "secret", poll.kind == "opinion"
        choices: list[tuple[str, list[str]]] = []
        if not secret and not opinion:  # a named vote is published by name: the minutes say who chose what
            rows = session.execute(
                select(t.Member.full_name, t.Ballot.selection)
                .join(t.Member, t.Member.id == t.Ballot.voter_id)
                .where(t.Ballot.poll_id == poll.id)
            )
            choices = [(name, list(selection)) for name, selection in rows]
        out[poll.agenda_item_id].append(poll_table(poll.result or {}, poll.title, secret=secret, opinion=opinion, choices=choices))
    return out


def _transcript(session: Session, meeting: t.Meeting) -> tuple[list[TranscriptEntry], list[str | None]]:
    """The current transcript's lines, and for each the agenda item it was spoken under."""
    run = current_pass(session, meeting.id)
    if run is None:
        return [], []
    found = lines(session, run.id)
    entries = [TranscriptEntry(line.start, line.speaker or "Chưa rõ người nói", line.text) for line in found]
    return entries, agenda_items_of(session, meeting, run, [line.start for line in found])


def _agenda(session: Session, meeting_id: str) -> list[t.AgendaItem]:
    return list(session.scalars(select(t.AgendaItem).where(t.AgendaItem.meeting_id == meeting_id).order_by(t.AgendaItem.position)))


def _draft_sections(session: Session, meeting: t.Meeting) -> list[tuple[str, str, str]]:
    """(item id, title, generated text) for every agenda item, plus the general section when needed."""
    entries, items = _transcript(session, meeting)
    polls = _polls(session, meeting.id)
    asked = opinions.minutes_lines(session, meeting.id)
    by_item: dict[str | None, list[TranscriptEntry]] = defaultdict(list)
    for entry, item_id in zip(entries, items, strict=True):
        by_item[item_id].append(entry)
    agenda = _agenda(session, meeting.id)
    known = {item.id for item in agenda}
    out: list[tuple[str, str, str]] = []
    for item in agenda:
        turns: list[Turn] = merge_turns(by_item.get(item.id, []))
        text = draft_text(turns, description=item.description, opinions=asked.get(item.id, []))
        out.append((item.id, item.title, text))
    stray = [e for item_id, group in by_item.items() if item_id not in known for e in group]
    stray_polls = [p for item_id, group in polls.items() if item_id not in known for p in group]
    if stray or stray_polls:
        out.append((GENERAL, GENERAL_TITLE, draft_text(merge_turns(sorted(stray, key=lambda e: e.start)))))
    return out


def latest_version(session: Session, meeting_id: str) -> t.MinutesVersion | None:
    return session.scalar(
        select(t.MinutesVersion).where(t.MinutesVersion.meeting_id == meeting_id).order_by(t.MinutesVersion.version.desc()).limit(1)
    )


def version_of(session: Session, meeting_id: str, version: int) -> t.MinutesVersion:
    row = session.get(t.MinutesVersion, (meeting_id, version))
    if row is None:
        raise NotFoundError(f"Biên bản không có phiên bản {version}", f"The minutes have no version {version}", version=version)
    return row


def _default_number(session: Session, meeting: t.Meeting) -> str:
    body = session.get(t.Body, meeting.body_id)
    return f"/BB-{body.short_name}" if body else "/BB"


def _place(session: Session, meeting: t.Meeting) -> str:
    room = session.get(t.Room, meeting.room_id) if meeting.room_id else None
    if room is None:
        return ""
    return f"{room.name}, {room.location}" if room.location else room.name


def build(session: Session, meeting_id: str, version: t.MinutesVersion | None, *, tz: ZoneInfo) -> Minutes:
    """The whole minutes: the record, with the text of ``version`` (or the generated draft)."""
    meeting = get_meeting(session, meeting_id)
    body = session.get_one(t.Body, meeting.body_id)
    polls = _polls(session, meeting_id)
    drafted = _draft_sections(session, meeting)
    texts = {s["item_id"]: s["text"] for s in version.sections} if version else {}
    titles = {item_id: title for item_id, title, _ in drafted}
    order = [item_id for item_id, _, _ in drafted] + [i for i in texts if i not in titles]
    sections = tuple(
        Section(
            item_id,
            titles.get(item_id, GENERAL_TITLE),
            texts.get(item_id) or next((text for i, _, text in drafted if i == item_id), ""),
            tuple(polls.get(item_id if item_id != GENERAL else None, [])) if item_id in titles else (),
            optional=item_id == GENERAL,  # what was said outside the agenda: left out when empty
        )
        for item_id in order
    )
    entries, _ = _transcript(session, meeting)
    started = (meeting.started_at or meeting.starts_at).astimezone(tz)
    ended = _closed_at(session, meeting_id, tz)
    return Minutes(
        parent_name=body.parent_name,
        body_name=body.name,
        number=version.number if version else _default_number(session, meeting),
        title=meeting.title,
        started_at=started,
        ended_at=ended,
        place=(version.place if version and version.place else _place(session, meeting)),
        chair=_person(session, meeting.chair_id),
        secretary=_person(session, meeting.secretary_id),
        attendance=_attendance(session, meeting_id),
        sections=sections,
        opening=(version.opening or "") if version else "",
        closing=(version.closing or "") if version else "",
        recipients=tuple(version.recipients) if version else ("Các thành viên dự họp",),
        transcript=tuple(entries),
        version=version.version if version else 0,
        meeting_id=meeting_id,
    )


def _closed_at(session: Session, meeting_id: str, tz: ZoneInfo) -> datetime | None:
    from meeting_room.db.tables import EventRow

    for row in session.scalars(
        select(EventRow).where(EventRow.meeting_id == meeting_id, EventRow.type == ev.MeetingStateChanged.type).order_by(EventRow.seq)
    ):
        if json.loads(row.payload).get("to_state") == MeetingState.CLOSED.value:
            return datetime.fromisoformat(row.occurred_at).astimezone(tz)
    return None


def require_reader(session: Session, actor: Actor, meeting: t.Meeting, version: int | None = None) -> None:
    """Who may read the minutes now (``access.require_minutes_reader``): signed means every signature is
    on. ``version``: one asked for by number; a version before the signed one (the newest) stays a draft,
    for those who oversee the meeting only: what was struck before signing is not the record."""
    signed = next_signer(session, meeting.id) is None
    if signed and version is not None:
        newest = latest_version(session, meeting.id)
        signed = newest is not None and newest.version == version
    require_minutes_reader(session, actor, meeting, signed=signed)


def signatures(session: Session, meeting_id: str) -> dict[str, t.MinutesSignature]:
    rows = session.scalars(select(t.MinutesSignature).where(t.MinutesSignature.meeting_id == meeting_id))
    return {row.role: row for row in rows}


# --- writing versions ----------------------------------------------------------------------------


def editable(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """Whether ``save_version`` would take the actor's edit now: an editor, a closed meeting, no signature yet."""
    return oversees(session, actor, meeting) and MeetingState(meeting.state) in EDITING and not signatures(session, meeting.id)


def _require_editor(session: Session, actor: Actor, meeting: t.Meeting) -> None:
    require_overseer(session, actor, meeting, action_vi="soạn biên bản", action_en="edit the minutes")


def _check_unsigned(session: Session, meeting_id: str) -> None:
    if signatures(session, meeting_id):
        raise ConflictError(
            "Biên bản đã được ký; không thể sửa nội dung nữa",
            "The minutes have been signed; their text can no longer change",
            meeting_id=meeting_id,
        )


def save_version(store: Store, actor: Actor, meeting_id: str, edit: MinutesEdit, *, base_version: int | None = None) -> int:
    """Save a new version; ``base_version`` (the version the editor started from) refuses a lost update."""

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        _require_editor(session, actor, meeting)
        require_state(
            meeting.id,
            MeetingState(meeting.state),
            EDITING,
            "soạn biên bản (cuộc họp phải đã bế mạc)",
            "edit the minutes",
            title=meeting.title,
        )
        _check_unsigned(session, meeting_id)
        return _next_version(session, meeting, edit, base_version=base_version, generated=False)

    event = store.append(decide, actor_id=actor.member_id)
    return int(event.data["version"])


def _next_version(session: Session, meeting: t.Meeting, edit: MinutesEdit, *, base_version: int | None, generated: bool) -> ev.MinutesSaved:
    previous = latest_version(session, meeting.id)
    current = previous.version if previous else 0
    if base_version is not None and base_version != current:
        raise ConflictError(
            f"Biên bản đã có phiên bản {current} mới hơn bản bạn đang sửa ({base_version}); hãy tải lại rồi sửa tiếp",
            f"The minutes are at version {current}, newer than the version you edited ({base_version}); reload and edit again",
            current=current,
            base_version=base_version,
        )
    drafted = _draft_sections(session, meeting)
    known = {item_id: title for item_id, title, _ in drafted}
    texts = {s["item_id"]: s["text"] for s in previous.sections} if previous else {i: text for i, _, text in drafted}
    for item_id, text in (edit.sections or {}).items():
        if item_id not in known:
            raise InvalidInputError(
                f"Biên bản không có mục {item_id}",
                f"The minutes have no section {item_id}",
                section=item_id,
                accepted=sorted(known),
            )
        texts[item_id] = check_section_text(known[item_id], text)
    for item_id, _, text in drafted:
        texts.setdefault(item_id, text)
    number = clean_line(edit.number) if edit.number is not None else (previous.number if previous else _default_number(session, meeting))
    if not number or len(number) > 32:
        raise InvalidInputError("Số biên bản phải có từ 1 đến 32 ký tự", "The minutes number must have 1 to 32 characters", number=number)

    def keep(new: str | None, old: str | None) -> str | None:
        return (clean_line(new) or None) if new is not None else old

    return ev.MinutesSaved(
        meeting_id=meeting.id,
        version=current + 1,
        number=number,
        place=keep(edit.place, previous.place if previous else None),
        opening=keep(edit.opening, previous.opening if previous else None),
        closing=keep(edit.closing, previous.closing if previous else None),
        recipients=[clean_line(r) for r in edit.recipients if r.strip()]
        if edit.recipients is not None
        else (list(previous.recipients) if previous else ["Các thành viên dự họp"]),
        sections=[ev.MinutesSection(item_id=i, text=texts[i]) for i in [d[0] for d in drafted] + [i for i in texts if i not in known]],
        generated=generated,
    )


# --- rendering and signing -----------------------------------------------------------------------


def render(
    store: Store, actor: Actor, meeting_id: str, files: MinutesFiles, *, tz: ZoneInfo, version: int | None = None
) -> RenderedMinutes:
    with store.read() as session:
        require_reader(session, actor, get_meeting(session, meeting_id), version)
        row = version_of(session, meeting_id, version) if version is not None else latest_version(session, meeting_id)
        minutes = build(session, meeting_id, row, tz=tz)
    return render_minutes(minutes, files.fonts())


def current_pdf(store: Store, actor: Actor, meeting_id: str, files: MinutesFiles, *, tz: ZoneInfo) -> tuple[bytes, bool]:
    """The newest signed PDF (and True), or a fresh rendering of the newest version (and False)."""
    with store.read() as session:
        require_reader(session, actor, get_meeting(session, meeting_id))
        signed = signatures(session, meeting_id)
    for role in reversed(ROLE_ORDER):
        if role in signed:
            return files.get_pdf(signed[role].pdf_sha256), True
    return render(store, actor, meeting_id, files, tz=tz).pdf, False


@dataclass(frozen=True)
class SignResult:
    role: str
    version: int
    pdf_sha256: str
    timestamped: bool


def next_signer(session: Session, meeting_id: str) -> str | None:
    """The role whose signature the minutes wait for (the secretary first, then the chair), None once both signed."""
    done = signatures(session, meeting_id)
    return next((role for role in ROLE_ORDER if role not in done), None)


def signs_next(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """Whether the actor is the one to sign the minutes now (``sign`` would not refuse them for their role or turn)."""
    role = meeting_role(session, actor, meeting)
    waiting = next_signer(session, meeting.id)
    return MeetingState(meeting.state) in EDITING and role is not None and role.value == waiting


def signing_key(session: Session, actor: Actor, files: MinutesFiles, now: datetime) -> str:
    """How the actor can sign, for the page to say before asking a passphrase: "server" (a PKCS#12 kept
    here), "token" (their key is on a USB token), "none" (no certificate registered), "missing" (its
    file is gone from the server), "expired" or "not_yet_valid" (``prepare_signing`` refuses those)."""
    certificate = session.get(t.SignerCertificate, actor.member_id)
    if certificate is None:
        return "none"
    return _validity(certificate, now) or files.key_place(actor.member_id, certificate.fingerprint_sha256) or "missing"


def _validity(certificate: t.SignerCertificate, now: datetime) -> str | None:
    """Why this certificate cannot sign now: "expired" or "not_yet_valid" (None: it can)."""
    if certificate.not_after <= now:
        return "expired"
    return "not_yet_valid" if certificate.not_before > now else None


def _signing_role(session: Session, actor: Actor, meeting: t.Meeting) -> str:
    role = meeting_role(session, actor, meeting)
    done = signatures(session, meeting.id)
    if role is MeetingRole.SECRETARY:
        if "secretary" in done:
            raise ConflictError("Thư ký đã ký biên bản này rồi", "The secretary has already signed these minutes")
        return "secretary"
    if role is MeetingRole.CHAIR:
        if "secretary" not in done:
            raise ConflictError(
                "Thư ký cần ký trước, sau đó chủ tọa mới ký", "The secretary signs first; the chair signs after", signed=sorted(done)
            )
        if "chair" in done:
            raise ConflictError("Chủ tọa đã ký biên bản này rồi", "The chair has already signed these minutes")
        return "chair"
    raise PermissionDeniedError(
        "Chỉ thư ký và chủ tọa của cuộc họp được ký biên bản",
        "Only the meeting's secretary and chair sign the minutes",
        meeting_id=meeting.id,
    )


@dataclass(frozen=True)
class SigningJob:
    """What one signature signs: the source PDF (the rendered version, or the secretary's signed file
    for the chair), where and how its appearance goes, and the certificate it must be made with."""

    role: str
    version: int
    fingerprint: str
    source: bytes
    source_sha: str
    request: SignRequest


def _signer(session: Session, actor: Actor, meeting_id: str) -> tuple[t.Meeting, str]:
    """The meeting and the actor's signing role, if their signature is the one the minutes wait for now."""
    meeting = get_meeting(session, meeting_id)
    require_view(session, actor, meeting)
    require_state(
        meeting.id,
        MeetingState(meeting.state),
        EDITING,
        "ký biên bản (cuộc họp phải đã bế mạc)",
        "sign the minutes",
        title=meeting.title,
    )
    return meeting, _signing_role(session, actor, meeting)


def require_signer(store: Store, actor: Actor, meeting_id: str) -> None:
    """Raise unless the minutes wait for the actor's signature: checked before a signed upload is read."""
    with store.read() as session:
        _signer(session, actor, meeting_id)


def prepare_signing(
    store: Store,
    actor: Actor,
    meeting_id: str,
    files: MinutesFiles,
    *,
    tz: ZoneInfo,
    keep_source: bool = True,
    key_on_server: bool = False,
    before_seal: Callable[[Session, str], None] | None = None,
) -> SigningJob:
    """Every check before a signature (state, role and turn, content, a registered certificate), and the PDF to sign
    (kept in the store unless ``keep_source`` is false: a check that signs nothing writes nothing)."""
    with store.read() as session:
        meeting, role = _signer(session, actor, meeting_id)
        if role == "secretary":  # their signature fixes the text; the chair signs what they signed
            build(session, meeting_id, latest_version(session, meeting_id), tz=tz).check_signable()
        if role == ROLE_ORDER[-1] and before_seal is not None:  # the last signature seals the meeting
            before_seal(session, meeting_id)
        certificate = session.get(t.SignerCertificate, actor.member_id)
        if certificate is None:
            raise ConflictError(
                "Bạn chưa có chứng thư số được đăng ký; hãy nhờ quản trị viên đăng ký tệp .p12 của bạn",
                "You have no registered signing certificate; ask the administrator to register your .p12 file",
                member_id=actor.member_id,
            )
        validity = _validity(certificate, store.now())
        if validity == "expired":  # the page says so first; a signature made with it would not verify
            day = certificate.not_after.astimezone(tz).strftime("%d/%m/%Y")
            raise ConflictError(
                f"Chứng thư số của bạn đã hết hạn ngày {day}; hãy gia hạn và nhờ quản trị viên đăng ký chứng thư mới",
                f"Your signing certificate expired on {day}; renew it and have the administrator register the new one",
                member_id=actor.member_id,
            )
        if validity == "not_yet_valid":
            day = certificate.not_before.astimezone(tz).strftime("%d/%m/%Y")
            raise ConflictError(
                f"Chứng thư số của bạn chưa có hiệu lực (từ ngày {day})",
                f"Your signing certificate is not valid yet (from {day})",
                member_id=actor.member_id,
            )
        fingerprint = certificate.fingerprint_sha256
        if key_on_server:  # a signer whose key is on a token is told so before anything is saved
            files.get_certificate(actor.member_id, fingerprint)
        member = session.get_one(t.Member, actor.member_id)
        version = latest_version(session, meeting_id)
        source_sha = signatures(session, meeting_id)["secretary"].pdf_sha256 if role == "chair" else None
        signature_png = signature_images.png_of(session, ImageKind.SIGNATURE, actor.member_id, files)
        # the chair signs for the body (Decree 30, appendix I: the organisation's signature carries its seal)
        seal_png = signature_images.png_of(session, ImageKind.SEAL, meeting.body_id, files) if role == "chair" else None
    if version is None:  # the secretary signs the automatic draft: it becomes version 1
        save_generated(store, actor, meeting_id)
        with store.read() as session:
            version = latest_version(session, meeting_id)
    assert version is not None
    rendered = render(store, actor, meeting_id, files, tz=tz, version=version.version)  # also where the boxes are
    if source_sha is None:
        source = rendered.pdf
        source_sha = files.put_pdf(source) if keep_source else hashlib.sha256(source).hexdigest()
    else:
        source = files.get_pdf(source_sha)
    box = rendered.signature_boxes[role]
    request = SignRequest(role, member.full_name, member.title, box.page, box.box, None, signature_png, seal_png)
    return SigningJob(role, version.version, fingerprint, source, source_sha, request)


@contextmanager
def passphrase_guard(throttle: LoginThrottle | None, member_id: str, client: str) -> Iterator[None]:
    """Wrong signing passphrases are slowed like wrong passwords (``throttle``), whatever they sign (the
    minutes, the notice: one count per member and address), so that a session left open on a tablet, or
    a stolen one, cannot guess the key that signs the record (an attacker's probe: 40 in 1.8 s)."""
    keys = (f"sign:{member_id}", client)  # usernames cannot contain ":": no clash with log-in keys
    if throttle is not None:
        throttle.check(*keys)
    try:
        yield
    except WrongSecretError:
        if throttle is not None:
            throttle.failed(*keys)
        raise
    if throttle is not None:
        throttle.succeeded(*keys)


def sign(
    store: Store,
    actor: Actor,
    meeting_id: str,
    passphrase: str,
    files: MinutesFiles,
    *,
    tz: ZoneInfo,
    throttle: LoginThrottle | None = None,
    client: str = "?",
    before_seal: Callable[[Session, str], None] | None = None,
) -> SignResult:
    """Sign with the actor's registered PKCS#12 on the server: the secretary the rendered PDF, the chair the secretary's
    (wrong passphrases slowed: ``passphrase_guard``)."""
    with passphrase_guard(throttle, actor.member_id, client):
        job = prepare_signing(store, actor, meeting_id, files, tz=tz, key_on_server=True, before_seal=before_seal)
        pkcs12 = files.get_certificate(actor.member_id, job.fingerprint)
        signed = sign_pdf(job.source, pkcs12, passphrase, job.request, files.stamp_font(), tsa_url=files.tsa_url)
    return _record_signature(store, actor, meeting_id, job, signed, files, timestamped=files.tsa_url is not None, before_seal=before_seal)


def hand_out(store: Store, actor: Actor, meeting_id: str, files: MinutesFiles, *, tz: ZoneInfo) -> SigningJob:
    """The job for a signer who signs on their own computer (``meeting-room sign``, a PKCS#11 token):
    the source handed out is recorded, so that the upload can be checked against exactly it."""
    job = prepare_signing(store, actor, meeting_id, files, tz=tz)

    def decide(session: Session) -> ev.EventPayload:
        return ev.MinutesSigningPrepared(
            meeting_id=meeting_id, version=job.version, role=job.role, member_id=actor.member_id, source_sha256=job.source_sha
        )

    store.append(decide, actor_id=actor.member_id)
    return job


def _handed_out(session: Session, meeting_id: str, job: SigningJob, member_id: str, source_sha: str) -> bool:
    """Whether ``source_sha`` was handed out to this member, for this role and version (``hand_out``)."""
    from meeting_room.db.tables import EventRow

    wanted = {"member_id": member_id, "role": job.role, "version": job.version, "source_sha256": source_sha}
    rows = session.scalars(
        select(EventRow.payload).where(EventRow.meeting_id == meeting_id, EventRow.type == ev.MinutesSigningPrepared.type)
    )
    return any(all(json.loads(row).get(k) == v for k, v in wanted.items()) for row in rows)


def accept_signed(
    store: Store, actor: Actor, meeting_id: str, source_sha: str, signed: bytes, files: MinutesFiles, *, tz: ZoneInfo
) -> SignResult:
    """Take a PDF signed on the signer's computer: it must be exactly the source handed out to this signer for
    the current version, plus one valid signature in their field, made with their registered certificate."""
    job = prepare_signing(store, actor, meeting_id, files, tz=tz, keep_source=False)  # the checks of signing here, now
    with store.read() as session:
        handed = _handed_out(session, meeting_id, job, actor.member_id, source_sha)
    if not handed or (job.role == "chair" and source_sha != job.source_sha):
        raise ConflictError(
            "Tệp này không phải bản biên bản hiện hành đã giao cho bạn ký (biên bản có thể vừa thay đổi); hãy ký lại bản mới",
            "This is not the current copy of the minutes handed out to you for signing (they may have changed); sign the new copy",
            source_sha256=source_sha,
            version=job.version,
        )
    source = files.get_pdf(source_sha)
    report = check_added_signature(source, signed, FIELD_NAMES[job.role], job.request.page, job.fingerprint, files.trust_root_bytes())
    return _record_signature(
        store, actor, meeting_id, SigningJob(job.role, job.version, job.fingerprint, source, source_sha, job.request), signed, files,
        timestamped=report.timestamp is not None,
    )  # fmt: skip


def _record_signature(
    store: Store,
    actor: Actor,
    meeting_id: str,
    job: SigningJob,
    signed: bytes,
    files: MinutesFiles,
    *,
    timestamped: bool,
    before_seal: Callable[[Session, str], None] | None = None,
) -> SignResult:
    signed_sha = files.put_pdf(signed)
    role, version_number = job.role, job.version

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, meeting_id)
        require_state(meeting.id, MeetingState(meeting.state), EDITING, "ký biên bản", "sign the minutes", title=meeting.title)
        if _signing_role(session, actor, meeting) != role:
            raise ConflictError("Biên bản vừa được ký bởi người khác; hãy tải lại", "The minutes were just signed by someone else; reload")
        newest = latest_version(session, meeting_id)
        if newest is None or newest.version != version_number:
            raise ConflictError("Biên bản vừa được sửa; hãy xem lại rồi ký", "The minutes changed while signing; review and sign again")
        out: list[ev.EventPayload] = [
            ev.MinutesSigned(
                meeting_id=meeting_id,
                version=version_number,
                role=role,
                member_id=actor.member_id,
                fingerprint_sha256=job.fingerprint,
                signed_from_sha256=job.source_sha,
                pdf_sha256=signed_sha,
                size=len(signed),
                timestamped=timestamped,
            )
        ]
        if role == "chair":
            check_transition(meeting.id, MeetingState(meeting.state), MeetingState.MINUTES_SIGNED, title=meeting.title)
            if before_seal is not None:  # again where the signature is recorded: a notice saved while it was made
                before_seal(session, meeting_id)
            out.append(
                ev.MeetingStateChanged(meeting_id=meeting_id, from_state=MeetingState(meeting.state), to_state=MeetingState.MINUTES_SIGNED)
            )
        return out

    store.append_all(decide, actor_id=actor.member_id)
    log.info("minutes of %s signed by the %s (%s)", meeting_id, role, actor.member_id)
    return SignResult(role, version_number, signed_sha, timestamped)


def save_generated(store: Store, actor: Actor, meeting_id: str) -> int:
    """Keep the automatic draft as version 1 (when nobody has saved a version yet)."""

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, meeting_id)
        if latest_version(session, meeting_id) is not None:
            return []
        return [_next_version(session, meeting, MinutesEdit(), base_version=None, generated=True)]

    store.append_all(decide, actor_id=actor.member_id)
    return 1

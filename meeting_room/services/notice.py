"""The conclusion notice ("Thông báo kết luận"): the chair's conclusions per agenda item, drafted from the
minutes and the polls, edited in versions, rendered in the notice form of Decree 30 and signed by the chair.

It rides on the minutes: the same record (``minutes.build``), the same readers and editors, the same
files, fonts, certificates and signature appearance. Its few events (``NoticeSaved``, ``NoticeSigned``)
have no table of their own: they are read back from the log. It is written and signed before the
chair's signature on the minutes seals the meeting, and the archive holds it (``services.archive``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, meeting_role, oversees, require_minutes_reader, require_overseer, require_view
from meeting_room.auth import LoginThrottle
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, PermissionDeniedError
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.lifecycle import MeetingState, require_state
from meeting_room.roles import MeetingRole
from meeting_room.services import minutes as minutes_service
from meeting_room.services import signature_images
from meeting_room.store import Store
from transcripts.minutes import check_section_text
from transcripts.notice import Notice, NoticeItem, conclusion_of
from transcripts.pdf import RenderedMinutes, render_notice
from transcripts.signature_images import ImageKind
from transcripts.signing import SignRequest, sign_pdf
from transcripts.text import clean_line

log = logging.getLogger(__name__)
# after the meeting and until its record is sealed (the store then takes no more of its events): the
# chair's signature on the minutes seals it, so the notice is signed before, and is sealed with it
STATES = frozenset({MeetingState.CLOSED, MeetingState.MINUTES_SIGNED})
RECIPIENTS = ("Các thành viên dự họp", "Các cơ quan, đơn vị liên quan")
SIGN_REASON = "Chủ tọa ký thông báo kết luận cuộc họp"


@dataclass(frozen=True)
class NoticeEdit:
    """The editor's changes; a field left out keeps the previous version's value."""

    items: dict[str, str] | None = None
    number: str | None = None
    locality: str | None = None
    authority: str | None = None
    recipients: list[str] | None = None


@dataclass(frozen=True)
class Signed:
    """The chair's signature, as its event recorded it."""

    payload: ev.NoticeSigned
    signed_at: datetime


# --- reading the log -----------------------------------------------------------------------------


def _logged(session: Session, meeting_id: str, event_type: str) -> list[tuple[dict[str, object], str]]:
    rows = session.execute(
        select(t.EventRow.payload, t.EventRow.occurred_at)
        .where(t.EventRow.meeting_id == meeting_id, t.EventRow.type == event_type)
        .order_by(t.EventRow.seq)
    )
    return [(json.loads(payload), at) for payload, at in rows]


def versions(session: Session, meeting_id: str) -> list[ev.NoticeSaved]:
    return [ev.NoticeSaved.model_validate(data) for data, _ in _logged(session, meeting_id, ev.NoticeSaved.type)]


def latest_version(session: Session, meeting_id: str) -> ev.NoticeSaved | None:
    found = versions(session, meeting_id)
    return found[-1] if found else None


def signature(session: Session, meeting_id: str) -> Signed | None:
    found = _logged(session, meeting_id, ev.NoticeSigned.type)
    if not found:
        return None
    data, at = found[0]
    return Signed(ev.NoticeSigned.model_validate(data), datetime.fromisoformat(at))


def _default_number(session: Session, meeting: t.Meeting) -> str:
    body = session.get(t.Body, meeting.body_id)
    return f"/TB-{body.short_name}" if body else "/TB"


def _default_authority(session: Session, meeting: t.Meeting) -> str:
    # the chair signs on behalf of the body (Decree 30: "TM." before the collective's name)
    return f"TM. {session.get_one(t.Body, meeting.body_id).name}"


def _drafted(session: Session, meeting_id: str, *, tz: ZoneInfo) -> list[NoticeItem]:
    """Every agenda item and the conclusion drafted for it from the minutes' text or its polls."""
    minutes = minutes_service.build(session, meeting_id, minutes_service.latest_version(session, meeting_id), tz=tz)
    return [
        NoticeItem(section.item_id, section.title, conclusion_of(section.text, section.polls))
        for section in minutes.sections
        if section.item_id != minutes_service.GENERAL
    ]


def build(session: Session, meeting_id: str, version: ev.NoticeSaved | None, *, tz: ZoneInfo, today: datetime) -> Notice:
    """The whole notice: the record, with the text of ``version`` (or the generated draft), dated ``today``."""
    meeting = get_meeting(session, meeting_id)
    body = session.get_one(t.Body, meeting.body_id)
    minutes = minutes_service.build(session, meeting_id, minutes_service.latest_version(session, meeting_id), tz=tz)
    texts = {item.item_id: item.text for item in version.items} if version else {}
    items = tuple(
        NoticeItem(item.item_id, item.title, texts[item.item_id] if item.item_id in texts else item.text)
        for item in _drafted(session, meeting_id, tz=tz)
    )
    return Notice(
        parent_name=body.parent_name,
        body_name=body.name,
        number=version.number if version else _default_number(session, meeting),
        title=meeting.title,
        started_at=minutes.started_at,
        place=minutes.place,
        locality=(version.locality or "") if version else "",
        issued_on=today.astimezone(tz).date(),
        chair=minutes.chair,
        present=minutes.attendance.present,
        total=minutes.attendance.total,
        items=items,
        authority=(version.authority or "") if version and version.authority is not None else _default_authority(session, meeting),
        recipients=tuple(version.recipients) if version else RECIPIENTS,
        version=version.version if version else 0,
        meeting_id=meeting_id,
    )


def require_signed_before_seal(session: Session, meeting_id: str) -> None:
    """The chair's signature on the minutes seals the meeting, after which the notice can never be
    signed: a notice someone has written (a saved version) must be signed first. An automatic draft
    nobody saved does not hold the seal up (not every meeting issues a notice); the page warns of it."""
    if versions(session, meeting_id) and signature(session, meeting_id) is None:
        raise ConflictError(
            "Thông báo kết luận đã được soạn nhưng chưa ký: hãy ký thông báo trước. Chữ ký của chủ tọa trên biên bản "
            "niêm phong hồ sơ cuộc họp, sau đó thông báo không ký được nữa",
            "The conclusion notice has been written but not signed: sign it first. The chair's signature on the minutes "
            "seals the meeting's record, and the notice could not be signed afterwards",
            meeting_id=meeting_id,
            needs="notice_signed",
        )


def require_reader(session: Session, actor: Actor, meeting: t.Meeting) -> None:
    """Who reads the notice now: the minutes' rule (``access.require_minutes_reader``), signed meaning the chair's signature."""
    require_minutes_reader(
        session,
        actor,
        meeting,
        signed=signature(session, meeting.id) is not None,
        action_vi="xem thông báo kết luận trước khi được ký",
        action_en="read the conclusion notice before it is signed",
    )


# --- writing versions ----------------------------------------------------------------------------


def editable(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """Whether ``save_version`` would take the actor's edit now: an editor, after the meeting, not signed yet."""
    return oversees(session, actor, meeting) and MeetingState(meeting.state) in STATES and signature(session, meeting.id) is None


def signable(session: Session, actor: Actor, meeting: t.Meeting) -> bool:
    """Whether the actor is the one who signs the notice now (the chair, after the meeting, not signed yet)."""
    return (
        meeting_role(session, actor, meeting) is MeetingRole.CHAIR
        and MeetingState(meeting.state) in STATES
        and signature(session, meeting.id) is None
    )


def _check_open(session: Session, meeting: t.Meeting, action_vi: str, action_en: str) -> None:
    require_state(meeting.id, MeetingState(meeting.state), STATES, f"{action_vi} (cuộc họp phải đã bế mạc)", action_en, title=meeting.title)
    if signature(session, meeting.id) is not None:
        raise ConflictError(
            "Thông báo kết luận đã được ký; không thể sửa hay ký lại",
            "The conclusion notice has been signed; it can no longer change",
            meeting_id=meeting.id,
        )


def save_version(store: Store, actor: Actor, meeting_id: str, edit: NoticeEdit, *, tz: ZoneInfo, base_version: int | None = None) -> int:
    """Save a new version; ``base_version`` (the version the editor started from) refuses a lost update."""

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_overseer(session, actor, meeting, action_vi="soạn thông báo kết luận", action_en="edit the conclusion notice")
        _check_open(session, meeting, "soạn thông báo kết luận", "edit the conclusion notice")
        return _next_version(session, meeting, edit, tz=tz, base_version=base_version, generated=False)

    event = store.append(decide, actor_id=actor.member_id)
    return int(event.data["version"])


def _next_version(
    session: Session, meeting: t.Meeting, edit: NoticeEdit, *, tz: ZoneInfo, base_version: int | None, generated: bool
) -> ev.NoticeSaved:
    previous = latest_version(session, meeting.id)
    current = previous.version if previous else 0
    if base_version is not None and base_version != current:
        raise ConflictError(
            f"Thông báo đã có phiên bản {current} mới hơn bản bạn đang sửa ({base_version}); hãy tải lại rồi sửa tiếp",
            f"The notice is at version {current}, newer than the version you edited ({base_version}); reload and edit again",
            current=current,
            base_version=base_version,
        )
    drafted = _drafted(session, meeting.id, tz=tz)
    titles = {item.item_id: item.title for item in drafted}
    texts = {item.item_id: item.text for item in previous.items} if previous else {}
    for item in drafted:
        texts.setdefault(item.item_id, item.text)
    for item_id, text in (edit.items or {}).items():
        if item_id not in titles:
            raise InvalidInputError(
                f"Thông báo không có mục {item_id}", f"The notice has no item {item_id}", item=item_id, accepted=sorted(titles)
            )
        texts[item_id] = check_section_text(titles[item_id], text)
    number = clean_line(edit.number) if edit.number is not None else (previous.number if previous else _default_number(session, meeting))
    if not number or len(number) > 32:
        raise InvalidInputError("Số thông báo phải có từ 1 đến 32 ký tự", "The notice number must have 1 to 32 characters", number=number)

    def keep(new: str | None, old: str | None) -> str | None:
        return clean_line(new) if new is not None else old

    return ev.NoticeSaved(
        meeting_id=meeting.id,
        version=current + 1,
        number=number,
        locality=keep(edit.locality, previous.locality if previous else None) or None,
        authority=keep(edit.authority, previous.authority if previous else _default_authority(session, meeting)),
        recipients=[clean_line(r) for r in edit.recipients if r.strip()]
        if edit.recipients is not None
        else (list(previous.recipients) if previous else list(RECIPIENTS)),
        items=[ev.MinutesSection(item_id=item.item_id, text=texts[item.item_id]) for item in drafted],
        generated=generated,
    )


# --- rendering and signing -----------------------------------------------------------------------


def render(store: Store, actor: Actor, meeting_id: str, files: MinutesFiles, *, tz: ZoneInfo) -> RenderedMinutes:
    with store.read() as session:
        require_reader(session, actor, get_meeting(session, meeting_id))
        notice = build(session, meeting_id, latest_version(session, meeting_id), tz=tz, today=store.now())
    return render_notice(notice, files.fonts())


def current_pdf(store: Store, actor: Actor, meeting_id: str, files: MinutesFiles, *, tz: ZoneInfo) -> tuple[bytes, bool]:
    """The signed PDF (and True), or a fresh rendering of the newest version (and False)."""
    with store.read() as session:
        require_reader(session, actor, get_meeting(session, meeting_id))
        signed = signature(session, meeting_id)
    if signed is not None:
        return files.get_pdf(signed.payload.pdf_sha256), True
    return render(store, actor, meeting_id, files, tz=tz).pdf, False


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
) -> ev.NoticeSigned:
    """The chair signs the newest version with their registered PKCS#12 on the server (the minutes' path and appearance;
    wrong passphrases counted with the minutes' ones: ``minutes.passphrase_guard``)."""
    with minutes_service.passphrase_guard(throttle, actor.member_id, client):
        return _sign(store, actor, meeting_id, passphrase, files, tz=tz)


def _sign(store: Store, actor: Actor, meeting_id: str, passphrase: str, files: MinutesFiles, *, tz: ZoneInfo) -> ev.NoticeSigned:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        _check_open(session, meeting, "ký thông báo kết luận", "sign the conclusion notice")
        if meeting_role(session, actor, meeting) is not MeetingRole.CHAIR:
            raise PermissionDeniedError(
                "Chỉ chủ tọa cuộc họp ký thông báo kết luận", "Only the meeting's chair signs the conclusion notice", meeting_id=meeting_id
            )
        build(session, meeting_id, latest_version(session, meeting_id), tz=tz, today=store.now()).check_signable()
        certificate = session.get(t.SignerCertificate, actor.member_id)
        if certificate is None:
            raise ConflictError(
                "Bạn chưa có chứng thư số được đăng ký; hãy nhờ quản trị viên đăng ký tệp .p12 của bạn",
                "You have no registered signing certificate; ask the administrator to register your .p12 file",
                member_id=actor.member_id,
            )
        fingerprint = certificate.fingerprint_sha256
        member = session.get_one(t.Member, actor.member_id)
        signature_png = signature_images.png_of(session, ImageKind.SIGNATURE, actor.member_id, files)
        seal_png = signature_images.png_of(session, ImageKind.SEAL, meeting.body_id, files)  # the chair signs for the body
    pkcs12 = files.get_certificate(actor.member_id, fingerprint)
    _save_generated(store, actor, meeting_id, tz=tz)  # the chair signs the automatic draft: it becomes version 1
    with store.read() as session:
        version = latest_version(session, meeting_id)
        notice = build(session, meeting_id, version, tz=tz, today=store.now())
    assert version is not None
    rendered = render_notice(notice, files.fonts())
    source_sha = files.put_pdf(rendered.pdf)
    box = rendered.signature_boxes["chair"]
    request = SignRequest("chair", member.full_name, member.title, box.page, box.box, None, signature_png, seal_png, SIGN_REASON)
    signed = sign_pdf(rendered.pdf, pkcs12, passphrase, request, files.stamp_font(), tsa_url=files.tsa_url)
    signed_sha = files.put_pdf(signed)
    number = version.version

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        _check_open(session, meeting, "ký thông báo kết luận", "sign the conclusion notice")
        newest = latest_version(session, meeting_id)
        if newest is None or newest.version != number:
            raise ConflictError(
                "Thông báo vừa được sửa; hãy xem lại rồi ký", "The notice changed while signing; review and sign again", version=number
            )
        return ev.NoticeSigned(
            meeting_id=meeting_id,
            version=number,
            member_id=actor.member_id,
            fingerprint_sha256=fingerprint,
            signed_from_sha256=source_sha,
            pdf_sha256=signed_sha,
            size=len(signed),
            timestamped=files.tsa_url is not None,
        )

    event = store.append(decide, actor_id=actor.member_id)
    log.info("conclusion notice of %s signed by the chair (%s)", meeting_id, actor.member_id)
    return ev.NoticeSigned.model_validate(event.data)


def _save_generated(store: Store, actor: Actor, meeting_id: str, *, tz: ZoneInfo) -> None:
    """Keep the automatic draft as version 1 when nobody has saved a version yet."""

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, meeting_id)
        if latest_version(session, meeting_id) is not None:
            return []
        return [_next_version(session, meeting, NoticeEdit(), tz=tz, base_version=None, generated=True)]

    store.append_all(decide, actor_id=actor.member_id)

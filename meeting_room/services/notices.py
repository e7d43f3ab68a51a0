"""E-mail notices: what is queued in the outbox, and when (sending is ``live.mailer``'s).

Drawn from the log after a cursor, so that a notice is queued once even across restarts and events
committed by other processes count: the invitation when a meeting is published (``meeting_published``),
one to a participant added later, a notice of changes to a published meeting (time, room, agenda,
documents, cancellation), and reminders before the meeting and before an opinion deadline. Each
message has a key naming what it is about; a key already queued is not queued again. Messages are
plain text, Vietnamese first and then English. Only participants with an e-mail address get them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meeting_room.chain import StoredEvent
from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.store import Store
from voting import PollState

# The publishing event ("Gửi giấy mời"), subscribed to by its type string: the shared interface names
# it ``meeting_published``; the dotted spelling is the log's usual form and is accepted as the same.
PUBLISHED = frozenset({"meeting_published", "meeting.published"})
_CHANGES = {
    "meeting.updated": ("thời gian, địa điểm hoặc thông tin cuộc họp", "the time, place or details"),
    "agenda.item_added": ("chương trình họp", "the agenda"),
    "agenda.item_updated": ("chương trình họp", "the agenda"),
    "agenda.item_removed": ("chương trình họp", "the agenda"),
    "agenda.reordered": ("chương trình họp", "the agenda"),
    "document.attached": ("tài liệu", "the documents"),
    "document.removed": ("tài liệu", "the documents"),
    "document.renamed": ("tài liệu", "the documents"),
}
CURSOR = "notices"
PAGE = 500


@dataclass(frozen=True)
class NoticeOptions:
    tz: ZoneInfo
    site_url: str | None = None
    reminder: timedelta = timedelta(hours=24)
    opinion_reminder: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Notice:
    key: str
    to_address: str
    subject: str
    body: str


# --- composing -----------------------------------------------------------------------------------


def _when(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%H:%M ngày %d/%m/%Y")


def _when_en(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%H:%M on %d %B %Y")


def _details(session: Session, meeting: t.Meeting, options: NoticeOptions) -> tuple[list[str], list[str]]:
    """The meeting in Vietnamese lines and in English lines: when, where, the agenda, the link."""
    body = session.get(t.Body, meeting.body_id)
    room = session.get(t.Room, meeting.room_id) if meeting.room_id else None
    place = ", ".join(p for p in (room.name, room.location) if p) if room else "(chưa xếp phòng)"
    items = session.scalars(select(t.AgendaItem.title).where(t.AgendaItem.meeting_id == meeting.id).order_by(t.AgendaItem.position)).all()
    documents = session.scalar(select(func.count()).select_from(t.Document).where(t.Document.meeting_id == meeting.id)) or 0
    vi = [
        f"Cuộc họp: {meeting.title}",
        f"Cơ quan: {body.name}" if body else "",
        f"Thời gian: {_when(meeting.starts_at, options.tz)}",
        f"Địa điểm: {place}",
        "Chương trình:" if items else "",
        *[f"  {i}. {title}" for i, title in enumerate(items, start=1)],
        f"Tài liệu: {documents} tệp" if documents else "",
    ]
    en = [
        f"Meeting: {meeting.title}",
        f"Time: {_when_en(meeting.starts_at, options.tz)} ({options.tz.key})",
        f"Place: {place}",
        f"Agenda: {len(items)} item(s); documents: {documents}",
    ]
    if options.site_url:
        link = f"{options.site_url.rstrip('/')}/member/{meeting.id}"
        vi.append(f"Xem tài liệu và trả lời giấy mời: {link}")
        en.append(f"Documents and your reply: {link}")
    return [line for line in vi if line], en


def _message(intro_vi: str, intro_en: str, vi: list[str], en: list[str]) -> str:
    return "\n".join(
        [intro_vi, "", *vi, "", "Thư này được gửi tự động từ hệ thống phòng họp; xin không trả lời thư này.", "", "— English —", "",
         intro_en, "", *en, "", "This message was sent by the meeting room system; please do not reply to it."]
    )  # fmt: skip


def _recipients(session: Session, meeting_id: str, only: Iterable[str] | None = None) -> list[t.Member]:
    query = (
        select(t.Member)
        .join(t.Participant, t.Participant.member_id == t.Member.id)
        .where(t.Participant.meeting_id == meeting_id, t.Member.email.is_not(None), t.Member.active.is_(True))
        .order_by(t.Member.id)
    )
    if only is not None:
        query = query.where(t.Member.id.in_(list(only)))
    return list(session.scalars(query))


def invitations(session: Session, meeting: t.Meeting, options: NoticeOptions, only: Iterable[str] | None = None) -> list[Notice]:
    vi, en = _details(session, meeting, options)
    body = _message(
        "Kính mời đồng chí dự cuộc họp sau. Xin trả lời giấy mời (dự tại phòng họp, trực tuyến, vắng mặt hoặc cử người dự thay).",
        "You are invited to the meeting below. Please reply (in the room, online, absent, or sending a deputy).",
        vi,
        en,
    )
    subject = f"Giấy mời họp: {meeting.title} / Invitation"
    return [Notice(f"invitation:{meeting.id}:{m.id}", m.email or "", subject, body) for m in _recipients(session, meeting.id, only)]


def changes(session: Session, meeting: t.Meeting, options: NoticeOptions, kinds: list[str], seq: int) -> list[Notice]:
    vi, en = _details(session, meeting, options)
    what_vi = ", ".join(dict.fromkeys(_CHANGES[k][0] for k in kinds))
    what_en = ", ".join(dict.fromkeys(_CHANGES[k][1] for k in kinds))
    intro_vi = f"Cuộc họp đã có thay đổi về {what_vi}. Thông tin hiện tại:"
    intro_en = f"The meeting has changed ({what_en}). As it stands now:"
    body = _message(intro_vi, intro_en, vi, en)
    subject = f"Thay đổi cuộc họp: {meeting.title} / Meeting changed"
    return [Notice(f"changed:{meeting.id}:{seq}:{m.id}", m.email or "", subject, body) for m in _recipients(session, meeting.id)]


def cancellation(session: Session, meeting: t.Meeting, options: NoticeOptions, reason: str | None) -> list[Notice]:
    when_vi, when_en = _when(meeting.starts_at, options.tz), _when_en(meeting.starts_at, options.tz)
    body = _message(
        f"Cuộc họp “{meeting.title}” dự kiến lúc {when_vi} đã bị hủy." + (f" Lý do: {reason}" if reason else ""),
        f"The meeting “{meeting.title}” planned for {when_en} has been cancelled." + (f" Reason: {reason}" if reason else ""),
        [],
        [],
    )
    subject = f"Hủy cuộc họp: {meeting.title} / Meeting cancelled"
    return [Notice(f"cancelled:{meeting.id}:{m.id}", m.email or "", subject, body) for m in _recipients(session, meeting.id)]


def reminders(session: Session, meeting: t.Meeting, options: NoticeOptions) -> list[Notice]:
    vi, en = _details(session, meeting, options)
    body = _message("Nhắc lịch: cuộc họp sau sắp diễn ra.", "Reminder: the meeting below is coming up.", vi, en)
    subject = f"Nhắc lịch họp: {meeting.title} / Reminder"
    return [Notice(f"reminder:{meeting.id}:{m.id}", m.email or "", subject, body) for m in _recipients(session, meeting.id)]


def opinion_reminders(session: Session, poll: t.Poll, meeting: t.Meeting, options: NoticeOptions) -> list[Notice]:
    """To each member asked who has not answered yet."""
    asked = select(t.PollEligible.member_id).where(t.PollEligible.poll_id == poll.id)
    answered = set(session.scalars(select(t.PollVoter.member_id).where(t.PollVoter.poll_id == poll.id)))
    waiting = [m for m in session.scalars(asked) if m not in answered]
    assert poll.closes_at is not None  # only polls with a deadline are reminded of
    vi = [f"Nội dung: {poll.title}", f"Cuộc họp: {meeting.title}", f"Hạn góp ý: {_when(poll.closes_at, options.tz)}"]
    en = [f"Subject: {poll.title}", f"Meeting: {meeting.title}", f"Deadline: {_when_en(poll.closes_at, options.tz)} ({options.tz.key})"]
    if options.site_url:
        link = f"{options.site_url.rstrip('/')}/member/{meeting.id}"
        vi.append(f"Góp ý tại: {link}")
        en.append(f"Answer at: {link}")
    body = _message("Nhắc góp ý: đồng chí chưa gửi ý kiến về nội dung sau.", "Reminder: you have not yet given your opinion on:", vi, en)
    subject = f"Nhắc góp ý: {poll.title} / Opinion reminder"
    return [Notice(f"opinion:{poll.id}:{m.id}", m.email or "", subject, body) for m in _recipients(session, meeting.id, waiting)]


# --- queuing ---------------------------------------------------------------------------------------


def _queue(session: Session, notices: list[Notice], now: datetime) -> int:
    keys = [n.key for n in notices]
    if not keys:
        return 0
    known = set(session.scalars(select(t.MailMessage.key).where(t.MailMessage.key.in_(keys))))
    fresh = [n for n in notices if n.key not in known]
    session.add_all(
        t.MailMessage(key=n.key, to_address=n.to_address, subject=n.subject, body=n.body, created_at=now, attempts=0, next_attempt_at=now)
        for n in fresh
    )
    return len(fresh)


def _published_at_seq(session: Session, meeting_id: str) -> int | None:
    """The sequence number of the meeting's first publishing, or None while it is unpublished."""
    query = select(func.min(t.EventRow.seq)).where(t.EventRow.meeting_id == meeting_id, t.EventRow.type.in_(PUBLISHED))
    return session.scalar(query)


def _notices_for(session: Session, batch: list[StoredEvent], options: NoticeOptions) -> list[Notice]:
    out: list[Notice] = []
    changed: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in batch:
        meeting = session.get(t.Meeting, event.meeting_id) if event.meeting_id else None
        if meeting is None:
            continue
        if event.type in PUBLISHED:
            out += invitations(session, meeting, options)
            continue
        published = _published_at_seq(session, meeting.id)
        if published is None or event.seq < published:
            continue  # nothing went out yet: the invitation will say it as it is
        if event.type == "meeting.participant_added":
            out += invitations(session, meeting, options, only=[event.data["member_id"]])
        elif event.type == "meeting.state_changed" and event.data.get("to_state") == MeetingState.CANCELLED.value:
            out += cancellation(session, meeting, options, event.data.get("reason"))
        elif event.type in _CHANGES and MeetingState(meeting.state) is MeetingState.SCHEDULED:
            changed[meeting.id].append(event)
    for meeting_id, events in changed.items():  # one notice per meeting per batch, naming what changed
        meeting = session.get_one(t.Meeting, meeting_id)
        out += changes(session, meeting, options, [e.type for e in events], events[-1].seq)
    return out


def draw(store: Store, options: NoticeOptions) -> int:
    """Queue the notices of events after the cursor (started at the log's head the first time: no
    mail about the past). Returns how many messages were queued."""
    with store.read() as session:
        row = session.get(t.MailCursor, CURSOR)
        after = row.seq if row is not None else None
    if after is None:
        with store.exclusive() as session:
            if session.get(t.MailCursor, CURSOR) is None:
                session.add(t.MailCursor(name=CURSOR, seq=session.scalar(select(func.max(t.EventRow.seq))) or 0))
        return 0
    queued = 0
    while batch := store.events(after=after, limit=PAGE):
        with store.exclusive() as session:
            cursor = session.get_one(t.MailCursor, CURSOR)
            if cursor.seq != after:  # another server drew these meanwhile
                return queued
            queued += _queue(session, _notices_for(session, batch, options), store.now())
            cursor.seq = after = batch[-1].seq
    return queued


def queue_reminders(store: Store, options: NoticeOptions) -> int:
    """Reminders due now: published meetings starting within the lead time, opinion deadlines within theirs."""
    now = store.now()
    with store.exclusive() as session:
        notices: list[Notice] = []
        soon = select(t.Meeting).where(
            t.Meeting.state == MeetingState.SCHEDULED.value, t.Meeting.starts_at > now, t.Meeting.starts_at <= now + options.reminder
        )
        for meeting in session.scalars(soon):
            if _published_at_seq(session, meeting.id) is not None:
                notices += reminders(session, meeting, options)
        closing = select(t.Poll).where(
            t.Poll.before_meeting.is_(True),
            t.Poll.state == PollState.OPEN.value,
            t.Poll.closes_at > now,
            t.Poll.closes_at <= now + options.opinion_reminder,
        )
        for poll in session.scalars(closing):
            notices += opinion_reminders(session, poll, session.get_one(t.Meeting, poll.meeting_id), options)
        return _queue(session, notices, now)

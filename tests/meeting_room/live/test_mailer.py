"""E-mail notices against a real local SMTP server (aiosmtpd): the invitation on publishing,
changes, reminders before the meeting and before an opinion deadline, STARTTLS with a local CA,
and a server that is down or hangs (the message stays queued and is retried; no request waits)."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from fastapi.testclient import TestClient
from sqlalchemy import select

from meeting_room import events as ev
from meeting_room import projections
from meeting_room.api import create_app
from meeting_room.db import tables as t
from meeting_room.errors import SettingsError
from meeting_room.lifecycle import MeetingState
from meeting_room.live.mailer import Mailer
from meeting_room.operations.tls import ensure_tls
from meeting_room.roles import MeetingRole, Role
from meeting_room.server import open_store
from meeting_room.services import agenda, meetings, members, notices, opinions, polls
from meeting_room.settings import Settings, SmtpSettings
from meeting_room.store import Store
from tests.conftest import World, _settings, login, make_world, password_hash

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def world(draft_world: World) -> World:
    """These tests send the invitation themselves."""
    return draft_world


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), _free_port()
    server = Controller(box, hostname="127.0.0.1", port=port)
    server.start()
    yield box, port
    server.stop()


def _wait(what: str, cond: Callable[[], object], seconds: float = 20.0) -> None:
    end = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def _mailer(store: Store, port: int, **smtp: Any) -> Mailer:
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", from_address="hop@hdnd.thu.vn", **smtp)
    return Mailer(
        store,
        settings,
        None,
        notices.NoticeOptions(tz=TZ, site_url="https://hop.thu.vn", reminder=timedelta(hours=12), opinion_reminder=timedelta(hours=12)),
    )


def _give_emails(world: World, **addresses: str) -> None:
    admin = world.actor("admin")
    for who, address in addresses.items():
        members.update_member(world.store, admin, ev.MemberUpdated(member_id=world.ids[who], email=address))


@pytest.fixture(autouse=True)
def published_type() -> Iterator[type[ev.EventPayload]]:
    """The publishing endpoint's event; where this build lacks it, a stand-in of the same type string
    (the notices subscribe to the type alone), projected to nothing, for this test only."""
    known = next((ev.EVENT_TYPES[name] for name in sorted(notices.PUBLISHED) if name in ev.EVENT_TYPES), None)
    if known is not None:
        yield known
        return

    class MeetingPublished(ev.EventPayload):
        type = "meeting_published"
        meeting_id: str

    projections._on(MeetingPublished)(lambda session, payload, meta: None)
    try:
        yield MeetingPublished
    finally:  # the registry is the whole suite's: another test lists every event type
        del ev.EVENT_TYPES[MeetingPublished.type]
        del projections._HANDLERS[MeetingPublished]


def _publish(world: World, client: TestClient | None = None) -> None:
    """ "Gửi giấy mời": through the publishing endpoint where this build has it, else its event."""
    if client is not None and any(getattr(r, "path", "") == "/api/meetings/{meeting_id}/publish" for r in client.app.routes):  # type: ignore[attr-defined]
        assert client.post(f"/api/meetings/{world.meeting_id}/publish", headers=login(client, "secretary")).status_code == 200
        return
    cls = next(ev.EVENT_TYPES[name] for name in sorted(notices.PUBLISHED) if name in ev.EVENT_TYPES)
    world.store.append(cls(meeting_id=world.meeting_id), actor_id=world.ids["secretary"])  # type: ignore[call-arg]


def _outbox(store: Store) -> list[t.MailMessage]:
    with store.read() as session:
        return list(session.scalars(select(t.MailMessage).order_by(t.MailMessage.created_at, t.MailMessage.key)))


def test_nothing_is_queued_or_sent_without_an_smtp_server(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.smtp is None and Mailer.from_settings(settings, open_store(settings)) is None


def test_members_need_a_valid_e_mail_address(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    url = f"/api/members/{world.ids['member1']}"
    for bad in ("khong-hop-le", "a@b", "a b@thu.vn", "tên@thu.vn", "x@thu.vn\r\nBcc: y@z.vn"):
        r = client.patch(url, json={"email": bad}, headers=admin)
        assert r.status_code == 422, bad
    r = client.patch(url, json={"email": " thu.nguyen@hdnd.thu.vn "}, headers=admin)
    assert r.status_code == 200 and r.json()["email"] == "thu.nguyen@hdnd.thu.vn"


def test_the_invitation_changes_and_reminders_reach_the_members(world: World, inbox: tuple[Inbox, int]) -> None:
    box, port = inbox
    store = world.store
    _give_emails(world, member1="thu@hdnd.thu.vn", member2="nam@hdnd.thu.vn")
    mailer = _mailer(store, port)
    assert mailer.step() == 0  # the first step starts after the log's head: no mail about the past
    agenda.add_item(store, world.actor("secretary"), world.meeting_id, title="Trước khi gửi giấy mời")
    assert mailer.step() == 0  # nothing goes out before the meeting is published

    _publish(world)
    assert mailer.step() == 2
    invitation = box.to("thu@hdnd.thu.vn")[0]
    assert invitation["Subject"].startswith("Giấy mời họp: Phiên họp thường kỳ tháng 11") and invitation["From"] == "hop@hdnd.thu.vn"
    text = invitation.get_content()
    assert text.index("Kính mời đồng chí dự cuộc họp") < text.index("— English —") < text.index("You are invited")
    assert "Địa điểm: Phòng họp A, Tầng 2" in text and "1. Khai mạc" in text and "https://hop.thu.vn/member/" in text
    assert mailer.step() == 0  # each notice once

    agenda.add_item(store, world.actor("secretary"), world.meeting_id, title="Các vấn đề khác")
    agenda.add_item(store, world.actor("secretary"), world.meeting_id, title="Bế mạc")
    assert mailer.step() == 2  # one notice per member for the burst of changes
    changed = box.to("nam@hdnd.thu.vn")[-1]
    assert changed["Subject"].startswith("Thay đổi cuộc họp") and "chương trình họp" in changed.get_content()
    assert "Các vấn đề khác" in changed.get_content() and "Bế mạc" in changed.get_content()

    with store.read() as session:
        starts = session.get_one(t.Meeting, world.meeting_id).starts_at
    poll_id = opinions.ask(
        store, world.actor("secretary"), world.meeting_id,
        opinions.OpinionRequest(title="Dự thảo nghị quyết", agenda_item_id=world.item_ids[1], deadline=starts - timedelta(hours=1)),
    )  # fmt: skip
    polls.cast_ballot(store, world.actor("member1"), poll_id, [], "Đồng ý")
    assert mailer.step() == 0  # neither reminder is due a day ahead
    later = starts - timedelta(hours=10)
    store._clock = lambda: later
    assert mailer.step() == 3  # the meeting reminder to both, the opinion reminder to the one who has not answered
    reminded = {m["Subject"].split(":")[0]: m for m in box.to("nam@hdnd.thu.vn")[-2:]}
    assert sorted(reminded) == ["Nhắc góp ý", "Nhắc lịch họp"]
    assert [m["Subject"].split(":")[0] for m in box.to("thu@hdnd.thu.vn")[-1:]] == ["Nhắc lịch họp"]
    assert "Hạn góp ý:" in reminded["Nhắc góp ý"].get_content()


def test_a_participant_added_after_publishing_gets_an_invitation_and_a_cancellation_is_told(world: World, inbox: tuple[Inbox, int]) -> None:
    box, port = inbox
    store = world.store
    mailer = _mailer(store, port)
    mailer.step()
    _publish(world)
    assert mailer.step() == 0  # nobody has an address yet
    late = members.create_member(
        store,
        world.actor("admin"),
        full_name="Đại biểu Mời Sau",
        roles=[Role.MEMBER],
        email="sau@thu.vn",
        username="moisau",
        password_hash=password_hash(),
    )
    meetings.add_participant(store, world.actor("secretary"), world.meeting_id, late, role=MeetingRole.MEMBER)
    assert mailer.step() == 1 and box.to("sau@thu.vn")[0]["Subject"].startswith("Giấy mời họp")
    meetings.transition(store, world.actor("chair"), world.meeting_id, MeetingState.CANCELLED, reason="Trùng lịch")
    assert mailer.step() == 1
    assert "đã bị hủy. Lý do: Trùng lịch" in box.to("sau@thu.vn")[-1].get_content()


def test_starttls_with_the_servers_local_ca_and_a_login_from_the_password_file(world: World, tmp_path: Path) -> None:
    tls = ensure_tls(_settings(tmp_path / "mailhost"))  # a CA and a certificate for localhost, as the server makes for itself
    assert tls.ca is not None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert, tls.key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"Mat-khau-thu-2026")

    box, port = Inbox(), _free_port()
    server = Controller(
        box, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True, authenticator=authenticate, auth_required=True
    )
    server.start()
    try:
        _give_emails(world, member1="thu@hdnd.thu.vn")
        secret = tmp_path / "smtp-password"
        secret.write_text("mật-khẩu\n", encoding="utf-8")
        smtp = {"host": "localhost", "port": port, "from_address": "hop@thu.vn", "username": "hop", "password_file": secret}
        with pytest.raises(SettingsError, match="ASCII"):  # smtplib cannot send it: said at start-up, not at the first message
            Mailer.from_settings(_settings(tmp_path, smtp=smtp), world.store)
        secret.write_text("Mat-khau-thu-2026\n", encoding="utf-8")
        smtp["reminder_hours"] = 1
        untrusted = Mailer.from_settings(_settings(tmp_path, smtp=smtp), world.store)
        assert untrusted is not None
        untrusted.step()
        _publish(world)
        assert untrusted.step() == 0  # the system's CAs do not know this one: nothing is sent in the clear instead
        (row,) = _outbox(world.store)
        assert row.sent_at is None and row.attempts == 1 and "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "")
        assert logins == []  # the password never went out before the server was verified
        later = world.store.now() + timedelta(minutes=2)
        world.store._clock = lambda: later
        trusted = Mailer.from_settings(_settings(tmp_path, smtp={**smtp, "ca_file": tls.ca}), world.store)
        assert trusted is not None
        assert trusted.step() == 1 and box.to("thu@hdnd.thu.vn")[0]["Subject"].startswith("Giấy mời họp")
        assert logins == [(b"hop", b"Mat-khau-thu-2026")]
    finally:
        server.stop()


def test_a_server_that_is_down_keeps_the_message_queued_and_it_is_retried_with_back_off(world: World) -> None:
    store, port = world.store, _free_port()  # nothing listens there yet
    _give_emails(world, member1="thu@hdnd.thu.vn")
    mailer = _mailer(store, port)
    mailer.step()
    _publish(world)
    start = store.now()
    assert mailer.step() == 0
    (row,) = _outbox(store)
    assert (row.sent_at, row.attempts) == (None, 1) and "ConnectionRefused" in (row.last_error or "")
    assert row.next_attempt_at == start + timedelta(minutes=1) or row.next_attempt_at > start
    assert mailer.step() == 0 and _outbox(store)[0].attempts == 1  # not due yet: not tried again
    later = [store.now() + timedelta(minutes=1, seconds=1)]
    store._clock = lambda: later[0]
    assert mailer.step() == 0
    row = _outbox(store)[0]
    assert row.attempts == 2 and row.next_attempt_at - later[0] == timedelta(minutes=2)  # the wait doubles

    box = Inbox()
    server = Controller(box, hostname="127.0.0.1", port=port)
    server.start()
    try:
        later[0] += timedelta(minutes=2, seconds=1)
        assert mailer.step() == 1
        row = _outbox(store)[0]
        assert row.sent_at is not None and row.attempts == 3 and row.last_error is None
        assert box.to("thu@hdnd.thu.vn")[0]["Subject"].startswith("Giấy mời họp")
    finally:
        server.stop()


@pytest.fixture
def hanging_smtp() -> Iterator[tuple[socket.socket, int]]:
    """A server that accepts connections and never says a word (a mail server in trouble)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener, listener.getsockname()[1]
    listener.close()


def test_a_hanging_mail_server_slows_no_request(tmp_path: Path, hanging_smtp: tuple[socket.socket, int]) -> None:
    listener, port = hanging_smtp
    smtp = {"host": "127.0.0.1", "port": port, "security": "none", "from_address": "hop@thu.vn", "timeout_s": 60, "reminder_hours": 1}
    settings: Settings = _settings(tmp_path, smtp=smtp)
    store = open_store(settings)
    world = make_world(store, invited=False)
    _give_emails(world, member1="thu@hdnd.thu.vn")
    with TestClient(create_app(settings, store), base_url="https://testserver") as client:

        def cursor() -> t.MailCursor | None:
            with store.read() as session:
                return session.get(t.MailCursor, notices.CURSOR)

        _wait("the mailer's first step", lambda: cursor() is not None)
        _publish(world, client)
        listener.settimeout(20)
        connection, _ = listener.accept()  # the mailer is now waiting for a greeting that never comes
        try:
            headers = login(client, "member1")
            for _ in range(5):
                started = time.monotonic()
                assert client.get(f"/api/meetings/{world.meeting_id}", headers=headers).status_code == 200
                assert time.monotonic() - started < 2.0
            (row,) = _outbox(store)
            assert row.sent_at is None and row.attempts == 0  # still queued, being tried
        finally:
            connection.close()
        _wait("the failed attempt recorded", lambda: _outbox(store)[0].attempts == 1)
    store.engine.dispose()


def test_the_running_server_mails_the_invitation_when_the_secretary_publishes(tmp_path: Path, inbox: tuple[Inbox, int]) -> None:
    box, port = inbox
    smtp = {"host": "127.0.0.1", "port": port, "security": "none", "from_address": "hop@thu.vn", "reminder_hours": 1}
    settings = _settings(tmp_path, smtp=smtp)
    store = open_store(settings)
    world = make_world(store, invited=False)
    _give_emails(world, member2="nam@hdnd.thu.vn")
    with TestClient(create_app(settings, store), base_url="https://testserver") as client:

        def cursor() -> t.MailCursor | None:
            with store.read() as session:
                return session.get(t.MailCursor, notices.CURSOR)

        _wait("the mailer's first step", lambda: cursor() is not None)
        _publish(world, client)
        _wait("the invitation in the inbox", lambda: box.to("nam@hdnd.thu.vn"))
    assert box.to("nam@hdnd.thu.vn")[0]["Subject"].startswith("Giấy mời họp: Phiên họp thường kỳ tháng 11")
    store.engine.dispose()

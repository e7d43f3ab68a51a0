"""Sends the outbox through the body's SMTP server, off the event loop, retrying with back-off.

It wakes when events are committed (or every ``check_every_s``), queues the notices they call for
and the reminders now due (``services.notices``), and sends what is due. The network is never used
while the store's write lock is held, and never on the event loop: a slow or absent mail server
slows no request. A message that fails waits 1, 2, 4 … minutes (at most an hour) and is tried
again, ``MAX_ATTEMPTS`` times in all; its last error stays with it for the operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo

from sqlalchemy import select

from meeting_room.db import tables as t
from meeting_room.errors import SettingsError
from meeting_room.services import notices
from meeting_room.settings import Settings, SmtpSettings
from meeting_room.store import Store

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 24
BATCH = 50
CLAIM = timedelta(minutes=15)  # a batch being sent is not due elsewhere for this long (longer than its timeouts)


def backoff(attempts: int) -> timedelta:
    """How long a message waits after its ``attempts``-th failure."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


@dataclass(frozen=True)
class Outgoing:
    key: str
    to_address: str
    subject: str
    body: str


class Mailer:
    def __init__(self, store: Store, smtp: SmtpSettings, password: str | None, options: notices.NoticeOptions, check_every_s: float = 30.0):
        self.store, self.smtp, self._password, self.options = store, smtp, password, options
        self.check_every_s = check_every_s

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> Mailer | None:
        """None when no SMTP server is configured: then nothing is queued and nothing leaves."""
        smtp = settings.smtp
        if smtp is None:
            return None
        password = settings.smtp_password
        if smtp.password_file is not None:
            try:
                password = smtp.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(
                    f"Không đọc được tệp mật khẩu SMTP {smtp.password_file}: {exc}",
                    f"Cannot read the SMTP password file {smtp.password_file}: {exc}",
                    path=str(smtp.password_file),
                ) from None
        if password is not None and not password.isascii():  # smtplib's AUTH sends ASCII only
            raise SettingsError(
                "Mật khẩu SMTP chỉ được gồm ký tự ASCII (không dấu)",
                "The SMTP password must be ASCII (no accented letters)",
                setting="smtp.password_file" if smtp.password_file else "smtp_password",
            )
        options = notices.NoticeOptions(
            tz=ZoneInfo(settings.timezone),
            site_url=smtp.site_url,
            reminder=timedelta(hours=smtp.reminder_hours),
            opinion_reminder=timedelta(hours=smtp.opinion_reminder_hours),
        )
        return cls(store, smtp, password, options)

    async def run(self) -> None:
        """Until cancelled: a step now, then after each burst of committed events or every ``check_every_s``."""
        loop = asyncio.get_running_loop()
        while True:
            sub = self.store.bus.subscribe(None, maxsize=10_000)
            try:
                while True:
                    try:
                        await loop.run_in_executor(None, self.step)
                    except Exception:  # the database is unreachable for a moment: the next step retries
                        log.exception("mail: a step failed")
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.check_every_s):
                            await sub.queue.get()
                    for _ in range(sub.queue.qsize()):  # a burst of events: one step for all of them
                        sub.queue.get_nowait()
                    if sub.overflowed:
                        break  # subscribe afresh; the notices come from the log by their cursor anyway
            finally:
                self.store.bus.unsubscribe(sub)

    def step(self) -> int:
        """Queue what is due, then send what is due. Returns how many messages were sent."""
        notices.draw(self.store, self.options)
        notices.queue_reminders(self.store, self.options)
        return self.send_due()

    def send_due(self) -> int:
        now = self.store.now()
        with self.store.exclusive() as session:  # claimed: another server process does not send them too
            rows = list(
                session.scalars(
                    select(t.MailMessage)
                    .where(t.MailMessage.sent_at.is_(None), t.MailMessage.next_attempt_at <= now, t.MailMessage.attempts < MAX_ATTEMPTS)
                    .order_by(t.MailMessage.next_attempt_at, t.MailMessage.created_at, t.MailMessage.key)
                    .limit(BATCH)
                )
            )
            for row in rows:
                row.next_attempt_at = now + CLAIM
            due = [Outgoing(r.key, r.to_address, r.subject, r.body) for r in rows]
        if not due:
            return 0
        results: dict[str, str | None] = {}  # message key -> None (sent) or the error
        try:
            with self._connect() as server:
                for message in due:
                    results[message.key] = self._send_one(server, message)
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:  # no connection: every unsent one waits
            log.warning("mail: the SMTP server %s:%s is not reachable: %s", self.smtp.host, self.smtp.port, exc)
            for message in due:
                results.setdefault(message.key, f"{type(exc).__name__}: {exc}")
        self._record(results)
        return sum(error is None for error in results.values())

    def _send_one(self, server: smtplib.SMTP, message: Outgoing) -> str | None:
        # compat32's Header: the default policy's folding drops the space between two encoded words
        # ("thường kỳ" arrives as "thườngkỳ" in Python 3.11), which every long Vietnamese subject hits.
        mail = MIMEText(message.body, "plain", "utf-8")
        mail["From"], mail["To"] = self.smtp.from_address, message.to_address
        mail["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]  # compat32 takes a Header; typeshed says str
        mail["Date"], mail["Message-ID"] = formatdate(localtime=False), make_msgid(domain=self.smtp.from_address.split("@")[-1])
        try:
            server.send_message(mail)
        except smtplib.SMTPServerDisconnected:
            raise  # the connection is gone: this one and the rest wait for the next try
        except (smtplib.SMTPException, UnicodeError, ValueError) as exc:  # this message refused; the others go on
            log.warning("mail: message %s to %s refused: %s", message.key, message.to_address, exc)
            return f"{type(exc).__name__}: {exc}"
        return None

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
        server: smtplib.SMTP
        if smtp.security == "tls":
            server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        try:
            if smtp.security == "starttls":
                server.starttls(context=context)
            if smtp.username:
                server.login(smtp.username, self._password or "")
        except BaseException:
            server.close()
            raise
        return server

    def _record(self, results: dict[str, str | None]) -> None:
        now = self.store.now()
        with self.store.exclusive() as session:
            for key, error in results.items():
                row = session.get(t.MailMessage, key)
                if row is None:
                    continue
                row.attempts += 1
                if error is None:
                    row.sent_at, row.last_error = now, None
                else:
                    row.last_error, row.next_attempt_at = error[:2000], now + backoff(row.attempts)

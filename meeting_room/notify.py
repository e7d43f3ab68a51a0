"""Telling other processes that events were committed.

PostgreSQL: ``NOTIFY meeting_room_events`` inside the append transaction (delivered on commit, to
every server on that database). SQLite: a datagram to a Linux abstract socket named after the
database file (no file to clean up; only processes on this machine can send). The payload is the
writer's token, so that a server ignores its own notifications (it publishes those directly).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import uuid

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from meeting_room.bus import Bus

log = logging.getLogger(__name__)
CHANNEL = "meeting_room_events"


def _abstract_address(engine: Engine) -> str:
    digest = hashlib.sha256(engine.url.render_as_string(hide_password=True).encode()).hexdigest()[:24]
    return f"\0meeting-room-{digest}"


class Notifier:
    """The writer's side, used by the store."""

    def __init__(self, engine: Engine) -> None:
        self.token = uuid.uuid4().hex
        self._postgres = engine.dialect.name == "postgresql"
        self._address = _abstract_address(engine)
        self._sock: socket.socket | None = None
        if not self._postgres:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.setblocking(False)

    def in_transaction(self, session: Session) -> None:
        if self._postgres:
            session.execute(text("SELECT pg_notify(:channel, :token)"), {"channel": CHANNEL, "token": self.token})

    def after_commit(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # nobody listening (no server running): fine
                self._sock.sendto(self.token.encode(), self._address)


async def listen(engine: Engine, bus: Bus, own_token: str) -> None:
    """Poke ``bus`` whenever another process commits events. Runs until cancelled."""
    if engine.dialect.name == "postgresql":
        await _listen_postgres(engine, bus, own_token)
    else:
        await _listen_datagrams(engine, bus, own_token)


async def _listen_datagrams(engine: Engine, bus: Bus, own_token: str) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(_abstract_address(engine))
    except OSError as exc:
        log.warning("live events from other processes are off (another server owns this database?): %s", exc)
        sock.close()
        return
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    own = own_token.encode()

    def readable() -> None:
        others = False
        with contextlib.suppress(BlockingIOError):
            while True:
                others |= sock.recv(64) != own
        if others:
            bus.poke()

    loop.add_reader(sock.fileno(), readable)
    bus.poke()  # whatever was committed before we were listening
    try:
        await asyncio.Event().wait()
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()


async def _listen_postgres(engine: Engine, bus: Bus, own_token: str) -> None:
    import psycopg

    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    delay = 1.0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                bus.poke()  # whatever was committed while we were not listening
                delay = 1.0
                async for note in conn.notifies():
                    if note.payload != own_token:
                        bus.poke()
        except (psycopg.Error, OSError) as exc:
            log.warning("live events: PostgreSQL LISTEN lost (%s); retrying in %.0f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

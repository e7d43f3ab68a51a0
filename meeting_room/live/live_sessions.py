"""Open WebSockets by the login session they ride on, so that a session ends everywhere at once.

Every WebSocket (the event stream, a call, live audio) registers with the actor it resolved at
connect. One watcher re-resolves all live sessions in one read (``auth.resolve_hashes``, the same
rule as every HTTP request) every ``interval`` seconds, at the earliest expiry, and at once when this
process ends a session (``poke``). A session that is gone (logout, password change, revoked
invitation), expired or whose member was disabled ends its sockets with close code 4401; one whose
rights changed (roles) with 4409, after which a page reconnects with its new rights. Another server
process ending a session is noticed by the periodic read (the store is shared).

A socket of one meeting also carries the check its route made at connect (``recheck``: may this
actor still follow, call or send audio here?). It runs again once after the socket registered (a
change between the connect check and the registration is not missed) and whenever the log shows an
event that can take the meeting away from someone (``ACCESS_EVENTS``: a participant removed, the
meeting's officers or body changed, a member's or body's record changed); a refusal ends the socket
with 4403 (``ACCESS_LOST``), and where the socket's rights rest on the check's answer (the stream
of an officer: live tallies, reasons) a different answer ends it with 4409 (reconnect, new rights).

A stream asks ``cleared`` before each frame: it returns once the watcher has finished a round begun
after every change counted so far, so that nothing sent after a change reaches a socket the change
ended (an attacker's probe: a clerk's role removed, then a vote closed at once, and the old socket
got the closed vote's count before the watcher's next read). Counted are this process's pokes
(logout and the like, which leave no event) and, as the bus hands them out in order, the events that
can end a session or take a meeting away (``CHANGE_EVENTS``, from any process: the bus delivers
other processes' events too). A socket whose own check failed (the database busy) waits for a round
where it passed. Another process's logout leaves no event: there the periodic read ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import func, select
from starlette.types import Message
from starlette.websockets import WebSocket

from meeting_room import auth
from meeting_room.access import Actor
from meeting_room.chain import StoredEvent
from meeting_room.db.tables import EventRow
from meeting_room.errors import AuthenticationError, MeetingEndedError, MeetingRoomError, TooManyConnectionsError
from meeting_room.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Ending:
    """Why a live connection ends: a WebSocket close code, a short reason (Vietnamese first, within
    the 123 bytes a close frame allows) and the full message for the page."""

    code: int
    error_code: str
    message_vi: str
    message_en: str

    @property
    def reason(self) -> str:
        return f"{self.message_vi} / {self.message_en}"

    def error(self) -> dict[str, str]:
        return {"code": self.error_code, "message": self.message_vi, "message_en": self.message_en}


SESSION_ENDED = Ending(4401, "authentication_required", "Phiên đăng nhập đã kết thúc", "The session has ended")
# A link's session (an invitation, a hall display) that ended with its meeting: a page says that the
# meeting has ended (the hall screen keeps its title), whether or not the meeting's last event reached it first.
MEETING_ENDED = Ending(4401, "meeting_ended", "Cuộc họp đã kết thúc", "The meeting has ended")
RIGHTS_CHANGED = Ending(4409, "session_changed", "Quyền truy cập đã thay đổi", "Access rights changed")

# Events after which a meeting's sockets check again that their actor may still be there (see above).
ACCESS_EVENTS = ("meeting.participant_removed", "meeting.updated", "member.updated", "body.updated")

# Events after which every stream waits for the watcher before it sends more (see above).
# Not a meeting's state change, although a closed meeting ends the sessions opened from its links:
# the screens and pages on such a link are still told that the meeting has ended (not only that
# their session has), and the watcher's next round (0.5 s at most) closes them.
CHANGE_EVENTS = frozenset((*ACCESS_EVENTS, "member.password_set", "meeting.invitation_revoked"))

UNCOMPARED = object()  # a socket whose rights do not rest on its check's answer (only a refusal ends it)
ACCESS_LOST = Ending(4403, "access_lost", "Bạn không còn tham gia cuộc họp này", "You are no longer part of this meeting")

SETTLE_S = 10.0  # how long a stream waits for the watcher before it gives up (the database slow or failing)


class Unsettled(Exception):
    """The watcher did not clear the socket within ``SETTLE_S``: the stream cannot know that its socket
    still holds, so it closes (the page resumes where it was)."""


def _same(a: Actor, b: Actor) -> bool:
    """Still the same rights (a new name alone does not end a call)."""
    return (a.member_id, a.roles, a.only_meeting) == (b.member_id, b.roles, b.only_meeting)


@dataclass(eq=False)
class Live:
    """One open WebSocket of a session. ``ended`` is set (and ``ending`` says why) when it must close."""

    key: str
    actor: Actor
    meeting_id: str | None = None
    recheck: Callable[[], object] | None = None  # raises MeetingRoomError when the actor may no longer be here
    holds: object = UNCOMPARED  # what ``recheck`` returned at connect, where the socket's rights rest on it (else UNCOMPARED)
    rechecked: bool = False
    check_failed: bool = False  # its last check could not run (the database busy): nothing is sent until one does
    covered: int = 0  # the changes counted before its connect check, or before the last round that checked it
    viewer: bool = False  # a page following a meeting (counted against ``MAX_VIEWERS_*``)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    ending: Ending | None = None
    _stop: asyncio.Future[Literal[True]] | None = None

    def end(self, ending: Ending) -> None:
        if self.ending is None:
            log.info("session of member %s ended: its socket closes (%d %s)", self.actor.member_id, ending.code, ending.message_en)
            self.ending = ending
            self.ended.set()

    async def receive(self, ws: WebSocket) -> Message | None:
        """The client's next message, or None as soon as the session ends."""
        if self._stop is None:
            self._stop = asyncio.ensure_future(self.ended.wait())
        incoming = asyncio.ensure_future(ws.receive())
        either: set[asyncio.Future[Any]] = {incoming, self._stop}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the handler stops reading: no read left behind
            incoming.cancel()
            raise
        if incoming.done():
            return incoming.result()
        incoming.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await incoming
        return None

    async def close(self, ws: WebSocket) -> None:
        """Close the socket with the ending's code and bilingual reason."""
        assert self.ending is not None
        with contextlib.suppress(Exception):
            await ws.close(code=self.ending.code, reason=self.ending.reason)

    def _forget(self) -> None:
        if self._stop is not None:
            self._stop.cancel()


# Live pages of meetings one log-in session (a browser: all its tabs) and one member (all their
# devices) may hold open at once. Each open page costs the server work on every event of its meeting
# and every access check; an attacker's probe opened 500 from one member and slowed everyone's votes.
MAX_VIEWERS_PER_SESSION = 12
MAX_VIEWERS_PER_MEMBER = 24


class LiveSessions:
    def __init__(self, store: Store, interval: float = 0.5) -> None:
        self.store, self.interval = store, interval
        self._live: dict[str, set[Live]] = {}
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seq: int | None = None  # the last event seen by ``_access_changes``
        self._pokes = 0  # changes counted: pokes (from any thread) and ``CHANGE_EVENTS`` (on the loop)
        self._count_lock = threading.Lock()
        self._round: asyncio.Condition | None = None  # notified when a round finishes
        self._executor: ThreadPoolExecutor | None = None  # the watcher's reads: never behind other work's

    @contextlib.asynccontextmanager
    async def watching(
        self,
        token: str,
        actor: Actor,
        *,
        meeting_id: str | None = None,
        recheck: Callable[[], object] | None = None,
        holds: object = UNCOMPARED,
        viewer: bool = False,
        since: int | None = None,
    ) -> AsyncIterator[Live]:
        """Register a connection for as long as the block runs (``recheck``: its route's connect check;
        a result other than ``holds`` (an officer no longer one) ends it with 4409; ``since``: ``changes``
        before that check, so that a change between the check and now holds its frames for a round). A
        ``viewer`` (a page following a meeting) over the limits is refused with ``TooManyConnectionsError``."""
        live = Live(auth.token_hash(token), actor, meeting_id, recheck, holds, viewer=viewer)
        live.covered = self._pokes if since is None else since
        if viewer:
            self._admit(live)
        self._live.setdefault(live.key, set()).add(live)
        try:
            yield live
        finally:
            live._forget()
            group = self._live.get(live.key)
            if group is not None:
                group.discard(live)
                if not group:
                    del self._live[live.key]

    def _admit(self, live: Live) -> None:
        session = sum(1 for other in self._live.get(live.key, ()) if other.viewer)
        member = sum(
            1 for group in self._live.values() for other in group if other.viewer and other.actor.member_id == live.actor.member_id
        )
        if session >= MAX_VIEWERS_PER_SESSION or member >= MAX_VIEWERS_PER_MEMBER:
            raise TooManyConnectionsError(
                f"Bạn đang mở quá nhiều trang cuộc họp cùng lúc (tối đa {MAX_VIEWERS_PER_SESSION} trong một phiên đăng nhập, "
                f"{MAX_VIEWERS_PER_MEMBER} cho một người): hãy đóng bớt rồi mở lại",
                f"Too many meeting pages open at once (at most {MAX_VIEWERS_PER_SESSION} per log-in, "
                f"{MAX_VIEWERS_PER_MEMBER} per person): close some, then reload",
                retry_after=5,
            )

    def count(self) -> int:
        return sum(len(group) for group in self._live.values())

    def poke(self) -> None:
        """A session may have ended in this process: check now (callable from any thread). Counted at
        once, so that a stream's next frame waits for the round that acts on it."""
        self._count()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(wake.set)

    @property
    def changes(self) -> int:
        """Changes counted so far (see the module's note)."""
        return self._pokes

    def _count(self) -> None:
        with self._count_lock:
            self._pokes += 1

    def _noted(self, event: StoredEvent) -> None:
        """The bus hands out an event (on the loop, in order, before any stream has it)."""
        if event.type in CHANGE_EVENTS:
            self.poke()

    async def cleared(self, live: Live) -> bool:
        """Whether ``live`` may be sent its next frame: waits (only when one is due) for a watcher's
        round that checked this socket and began after every change counted so far; False when the
        socket has ended. Raises ``Unsettled`` when that takes over ``SETTLE_S``."""
        changes, round_ = self._pokes, self._round

        def done() -> bool:
            return live.ending is not None or (live.covered >= changes and not live.check_failed)

        if round_ is not None and not done():
            assert self._wake is not None
            self._wake.set()
            try:
                async with round_:
                    await asyncio.wait_for(round_.wait_for(done), SETTLE_S)
            except TimeoutError:
                raise Unsettled from None
        return live.ending is None

    async def run(self) -> None:
        """The watcher: runs for the application's lifetime."""
        self._loop, self._wake, self._round = asyncio.get_running_loop(), asyncio.Event(), asyncio.Condition()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-sessions")
        self.store.bus.listen(self._noted)
        wait = self.interval
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                self._wake.clear()
                try:
                    wait = await self.check()
                except Exception:
                    log.exception("live sessions: check failed")
                    wait = self.interval
                    continue
                async with self._round:
                    self._round.notify_all()
        finally:
            self.store.bus.unlisten(self._noted)
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._round = self._executor = None  # a stream after the stop does not wait for rounds that never come

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def check(self) -> float:
        """Re-resolve every live session once; end those that no longer hold. Returns how long to
        wait before the next check (sooner when a session expires before then)."""
        changes = self._pokes  # what this round covers: it reads after them
        keys = list(self._live)
        if not keys:
            return self.interval
        lives = [live for key in keys for live in self._live[key]]  # those this round checks (not the ones registered during it)
        found = await self._read(auth.resolve_hashes, self.store, keys)
        now, wait = datetime.now(UTC), self.interval
        for key in keys:
            result = found.get(key)
            for live in list(self._live.get(key, ())):
                if isinstance(result, AuthenticationError):
                    live.end(MEETING_ENDED if isinstance(result, MeetingEndedError) else SESSION_ENDED)
                elif result is not None and not _same(result.actor, live.actor):
                    live.end(RIGHTS_CHANGED)
            if result is not None and not isinstance(result, AuthenticationError):
                wait = min(wait, max(0.01, (result.expires_at - now).total_seconds() + 0.01))
        await self._recheck()
        for live in lives:
            if not live.check_failed:
                live.covered = max(live.covered, changes)
        return wait

    async def _recheck(self) -> None:
        """Run the connect check again where the log says access may have changed (and once for new sockets)."""
        self._seq, changed = await self._read(_access_changes, self.store, self._seq)
        due = [
            live
            for group in self._live.values()
            for live in group
            if live.recheck is not None and live.ending is None and (not live.rechecked or changed is None or live.meeting_id in changed)
        ]
        if not due:
            return
        outcome = await self._read(_run_checks, due)
        for live in due:
            result = outcome.get(live)
            live.check_failed = result is None
            if result is None:  # the check itself failed (database busy, connection lost): again next round
                live.rechecked = False
                continue
            live.rechecked = True
            if isinstance(result, MeetingRoomError):
                log.info("member %s lost meeting %s: %s", live.actor.member_id, live.meeting_id, result.message_en)
                live.end(ACCESS_LOST)
            elif live.holds is not UNCOMPARED and result.value != live.holds:
                live.end(RIGHTS_CHANGED)


def _access_changes(store: Store, after: int | None) -> tuple[int, set[str | None] | None]:
    """The newest event's seq, and the meetings with an ``ACCESS_EVENTS`` event after ``after``
    (None: every meeting, when one of them concerns no single meeting)."""
    with store.read() as session:
        newest = session.scalar(select(func.max(EventRow.seq))) or 0
        if after is None or newest <= after:
            return newest, set()
        rows = session.execute(
            select(EventRow.meeting_id).where(EventRow.seq > after, EventRow.seq <= newest, EventRow.type.in_(ACCESS_EVENTS))
        ).scalars()
        meetings: set[str | None] = set(rows)
        return newest, (None if None in meetings else meetings)


@dataclass(frozen=True)
class _Held:
    value: object


def _run_checks(lives: list[Live]) -> dict[Live, _Held | MeetingRoomError]:
    """Each socket's check: what it returned, or its refusal; absent where the check itself failed."""
    outcome: dict[Live, _Held | MeetingRoomError] = {}
    for live in lives:
        assert live.recheck is not None
        try:
            outcome[live] = _Held(live.recheck())
        except MeetingRoomError as exc:
            outcome[live] = exc
        except Exception:  # a failing check must not stop the others; this one is tried again
            log.exception("live sessions: access check of a socket failed")
    return outcome

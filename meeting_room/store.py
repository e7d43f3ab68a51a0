"""The store: the one place where meeting state changes.

``Store.append`` is the single writer. Inside one database transaction it lets the caller decide
the event against the current read models, links it to the chain, applies it to the read models,
and commits; only then is it published to live subscribers. Writers are serialised (an in-process
lock, plus ``BEGIN IMMEDIATE`` on SQLite or an advisory lock on PostgreSQL, so that several server
processes cannot fork the chain either; the unique ``prev_hash`` column would refuse a fork anyway).

A decision with more to tell its caller than the events (a receipt, a count) returns both in a
``Decided``; ``Store.decide`` hands the result back after the commit. Nothing leaves the
transaction through a variable the decision writes to.

Group commit: decisions that arrive while a commit is under way (a council voting in the same
second) wait, and the next writer decides all of them, in arrival order, in one transaction, each
in its own savepoint: one that is refused or conflicts is rolled back alone and its caller gets
its error; the others commit together with one fsync and are published in commit order. Each
decision still sees every earlier one's effects (the same transaction), so the rules are checked
exactly as one at a time; nobody is told before the commit that holds their event.

Decided together: a run of waiting decisions that say they may be decided ``Together`` (ballots in
the same poll, one after another in the queue) is decided by one call in one savepoint, its reads
made once for all (the poll, who may vote, who has) and its rows written in one statement each. That
call applies the same rules to each as to one alone (the one-at-a-time decision is the same code
with a run of one); a refused one gets its error and writes nothing. Should the run fail as a whole
(a refusal of every one, a conflict, a bug), it is rolled back and each is decided alone, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, delete, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from meeting_room import projections
from meeting_room.ballot_keys import BallotKeyring
from meeting_room.bus import Bus
from meeting_room.chain import GENESIS, ChainLink, ChainReport, StoredEvent, canonical_json, link_hash, verify_links
from meeting_room.db.tables import DERIVED_TABLES, EventRow, Meeting
from meeting_room.errors import ConflictError, SealedError, own_copy
from meeting_room.events import EventPayload, parse_payload
from meeting_room.notify import Notifier
from meeting_room.operations.health import disk_full_error, is_disk_full
from meeting_room.operations.metrics import EVENT_APPEND_SECONDS

log = logging.getLogger(__name__)

T = TypeVar("T")
_INSERT_EVENT = insert(EventRow)  # run on the connection: a Core insert into its table


@dataclass(frozen=True)
class Decided(Generic[T]):
    """A decision's events and the result its caller gets back with them once they are committed."""

    events: EventPayload | Sequence[EventPayload]
    result: T


@dataclass(frozen=True)
class Together(Generic[T]):
    """What lets a decision be decided with the others of its kind waiting right next to it.

    ``decide_all(session, items)`` gets the ``item`` of each decision of the run, in arrival order,
    and returns for each its ``Decided``, the ``Exception`` that refuses it (nothing of it written),
    or None: decide this one alone, after the run (a member's next ask once one of theirs was taken
    in the run: it must see that one's effects). Decisions join a run only when their ``key`` is equal."""

    key: Hashable
    item: Any
    decide_all: Callable[[Session, Sequence[Any]], Sequence[Decided[T] | Exception | None]]


Decision = EventPayload | Callable[[Session], EventPayload]
ManyDecision = Callable[[Session], Sequence[EventPayload]]
ResultDecision = Callable[[Session], Decided[T]]
_PG_APPEND_LOCK = 0x6D72_0001  # advisory lock key for "meeting-room append"
_HEAD = "chain_head"  # session.info key: (seq, hash) of the newest event linked in this transaction
MAX_GROUP = 200  # decisions committed together at most (bounds one transaction's time and memory)
DRAIN_LINGER_S = 0.2  # how long the drain thread waits for more awaiting callers before it ends


@dataclass(eq=False)
class _Waiting:
    """A decision waiting for the next group commit, and what it came to once that ran."""

    decision: ResultDecision[Any]
    actor_id: str | None
    together: Together[Any] | None = None
    answer: asyncio.Future[None] | None = None  # an awaiting caller's (``decide_async``), settled on its loop
    done: bool = False
    stored: list[StoredEvent] = field(default_factory=list)
    result: Any = None
    error: BaseException | None = None


def _settle(waiting: Iterable[_Waiting]) -> None:
    """Wake the awaiting callers of a committed (or failed) group: one call into each event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for w in waiting:
        assert w.answer is not None
        by_loop.setdefault(w.answer.get_loop(), []).append(w.answer)
    for loop, answers in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting any more
            loop.call_soon_threadsafe(_answer_all, answers)


def _answer_all(answers: list[asyncio.Future[None]]) -> None:
    for answer in answers:
        if not answer.done():
            answer.set_result(None)


def _runs(group: list[_Waiting]) -> Iterator[list[_Waiting]]:
    """The group in arrival order, neighbours that may be decided together gathered in runs."""
    run: list[_Waiting] = []
    for waiting in group:
        if run and (waiting.together is None or run[0].together is None or waiting.together.key != run[0].together.key):
            yield run
            run = []
        run.append(waiting)
    if run:
        yield run


def _conflict(exc: IntegrityError) -> ConflictError:
    return ConflictError(
        "Thay đổi xung đột với dữ liệu đã có (trùng tên, trùng mã hoặc tham chiếu không tồn tại)",
        "The change conflicts with stored data (a duplicate or a dangling reference)",
        reason=str(exc.orig).splitlines()[0],
    )


def _refuse_if_sealed(session: Session, payload: EventPayload) -> None:
    """A sealed (archived) meeting's record is final: nothing more is appended to it, by anyone."""
    meeting_id = payload.meeting_scope
    if meeting_id is None:
        return
    meeting = session.get(Meeting, meeting_id)  # mostly already loaded by the decision: no query
    if meeting is not None:
        refuse_if_sealed(meeting, payload.type)


def refuse_if_sealed(meeting: Meeting, event: str | None = None) -> None:
    """``SealedError`` for an archived meeting: also asked before an upload is read, not only at its event."""
    if meeting.state == "archived":
        raise SealedError(
            f"Cuộc họp {meeting.id} đã được niêm phong lưu trữ; hồ sơ không thể thay đổi nữa",
            f"Meeting {meeting.id} is sealed in the archive; its record can no longer change",
            meeting_id=meeting.id,
            **({} if event is None else {"event": event}),
        )


class Store:
    def __init__(self, engine: Engine, bus: Bus | None = None, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.bus = bus or Bus()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()  # held while writing: appends, ``exclusive``, ``rebuild``
        self._queue: list[_Waiting] = []  # decisions waiting for the next group commit
        self._queue_changed = threading.Condition()
        self._leading = False  # a writer is committing a group; the others wait for its outcome
        self._draining = False  # a worker thread leads for awaiting callers (``decide_async``)
        self.notifier = Notifier(engine)
        self.ballot_keys = BallotKeyring()  # open secret polls' private keys: memory only

    def queued(self) -> int:
        """Decisions waiting for the next group commit."""
        with self._queue_changed:
            return len(self._queue)

    def now(self) -> datetime:
        """The store's clock (UTC): the time events are stamped with."""
        return self._clock().astimezone(UTC)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading the read models (never for writing them)."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def _write_session(self) -> Iterator[Session]:
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_APPEND_LOCK})
                with Session(bind=conn, expire_on_commit=False, autoflush=True) as session:
                    # The rows a transaction loads stay in its identity map until it ends (SQLAlchemy
                    # holds them weakly): a group's decisions and projections read the poll and the
                    # meeting once, not once per ballot. Writes go through the session, which keeps
                    # them in step; a rolled-back savepoint expires what it changed.
                    held: list[object] = []
                    event.listen(session, "loaded_as_persistent", lambda _session, row: held.append(row))
                    yield session
                    session.flush()

    @contextmanager
    def exclusive(self) -> Iterator[Session]:
        """A write transaction serialised with every append (for the few writes that are not events)."""
        with self._lock, self._write_session() as session:
            yield session

    def append(self, decision: Decision, *, actor_id: str | None = None) -> StoredEvent:
        """Decide, link, project and commit one event; publish it after the commit.

        ``decision`` is a payload, or a function that reads the current state through the session
        it is given (inside the locked transaction) and returns the payload or raises a
        ``MeetingRoomError``; then nothing is written.
        """
        return self.append_all(decision, actor_id=actor_id)[0]

    def append_all(self, decision: Decision | ManyDecision, *, actor_id: str | None = None) -> list[StoredEvent]:
        """Like ``append`` for a decision that yields several events: all are committed, or none."""

        def decided(session: Session) -> Decided[None]:
            return Decided(decision(session) if callable(decision) else decision, None)

        return self.decide(decided, actor_id=actor_id)[0]

    def decide(
        self, decision: ResultDecision[T], *, actor_id: str | None = None, together: Together[T] | None = None
    ) -> tuple[list[StoredEvent], T]:
        """Like ``append_all`` for a decision that also has a result for its caller (a receipt, whose
        link was revoked): it returns ``Decided(events, result)`` from inside the transaction; the
        stored events and the result come back after the commit and the publishing. With ``together``
        it may be decided in one run with its neighbours in the queue (see the module's docstring):
        ``decision`` must then be what ``together.decide_all`` does for a run of this one alone."""
        started = time.perf_counter()  # the caller's wait included: what a change costs under load
        mine, group = _Waiting(decision, actor_id, together), []
        with self._queue_changed:
            self._queue.append(mine)
            while self._leading and not mine.done:
                self._queue_changed.wait()
            if not mine.done:  # lead the next group: everything waiting, in arrival order
                self._leading = True
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
        if not mine.done:
            try:
                self._lead(group)
            except BaseException:
                if mine.error is None:
                    raise
        if mine.error is not None:
            raise mine.error  # its own copy where one failure stopped a group (raised by each caller)
        EVENT_APPEND_SECONDS.observe(time.perf_counter() - started)
        return mine.stored, mine.result

    async def decide_async(
        self, decision: ResultDecision[T], *, actor_id: str | None = None, together: Together[T] | None = None
    ) -> tuple[list[StoredEvent], T]:
        """``decide`` for a caller on the event loop: it waits without holding a worker thread. A
        burst of such callers (a hall's ballots) costs one thread's round trip per group commit, not
        one per caller; a worker thread leads while any of them wait and no ``decide`` caller leads."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        mine = _Waiting(decision, actor_id, together, answer=loop.create_future())
        with self._queue_changed:
            self._queue.append(mine)
            start = not self._draining
            self._draining = True
            self._queue_changed.notify_all()  # a drain thread lingering for more work takes it
        if start:
            try:  # a thread of its own: never waits behind the requests' worker threads
                threading.Thread(target=self._drain, name="store-drain", daemon=True).start()
            except BaseException as exc:  # nobody leads for the awaiting callers: none of theirs is decided
                with self._queue_changed:
                    self._draining = False
                    self._refuse_awaiting(exc)
        assert mine.answer is not None
        await asyncio.shield(mine.answer)  # a caller that goes away does not undo a decision under way
        if mine.error is not None:
            raise mine.error
        EVENT_APPEND_SECONDS.observe(time.perf_counter() - started)
        return mine.stored, mine.result

    def _drain(self) -> None:
        """Lead groups while awaiting callers' decisions wait (on a thread of its own); linger a moment
        for more before ending, so that ballots coming one by one do not start a thread each."""
        try:
            while (group := self._next_group()) is not None:
                try:
                    self._lead(group)
                except BaseException:  # its callers have the error (``_commit_group``); the others still wait
                    log.exception("a group of %d decisions failed", len(group))
        except BaseException as exc:  # the thread itself fails: nobody would lead for those still waiting
            with self._queue_changed:
                self._draining = False
                self._refuse_awaiting(exc)
            raise

    def _next_group(self) -> list[_Waiting] | None:
        """The drain thread's next group once it may lead; None (and draining ends) if nothing came."""
        with self._queue_changed:
            deadline = time.monotonic() + DRAIN_LINGER_S
            while self._leading or not self._queue:
                if self._leading:  # a ``decide`` caller leads: it, or the next of them, may take the queue
                    self._queue_changed.wait()
                    deadline = time.monotonic() + DRAIN_LINGER_S
                elif (left := deadline - time.monotonic()) > 0:
                    self._queue_changed.wait(left)
                else:
                    self._draining = False
                    return None
            self._leading = True
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            return group

    def _refuse_awaiting(self, exc: BaseException) -> None:
        """(Under the queue's lock.) The awaiting callers still queued get the error; theirs are not decided."""
        refused = [w for w in self._queue if w.answer is not None]
        self._queue = [w for w in self._queue if w.answer is None]
        for waiting in refused:
            waiting.error, waiting.done = own_copy(exc), True
        _settle(refused)

    def _lead(self, group: list[_Waiting]) -> None:
        """Commit a group (this thread holds ``_leading``), hand the lead on, settle the awaiting callers."""
        try:
            with self._lock:
                self._commit_group(group)
        finally:
            with self._queue_changed:
                self._leading = False
                self._queue_changed.notify_all()
            _settle(w for w in group if w.answer is not None)

    def _commit_group(self, group: list[_Waiting]) -> None:
        """Decide each waiting decision in its own savepoint of one transaction; commit; publish."""
        try:
            try:
                with self._write_session() as session:
                    for run in _runs(group):
                        if len(run) == 1:
                            self._decide_one(session, run[0])
                        else:
                            self._decide_run(session, run)
                    if any(w.error is None for w in group):
                        self.notifier.in_transaction(session)
            except DBAPIError as exc:
                if is_disk_full(exc):
                    raise disk_full_error("database") from None
                if not isinstance(exc, IntegrityError):
                    raise
                raise _conflict(exc) from None
        except BaseException as exc:  # nothing committed: each undecided caller gets the error
            for waiting in group:
                waiting.stored, waiting.result = [], None
                waiting.error = waiting.error or own_copy(exc)
                waiting.done = True
            raise
        for waiting in group:  # committed: every caller's answer holds, whatever the publishing does
            waiting.done = True
        for waiting in group:
            for link in waiting.stored:  # under the lock: subscribers see commit order
                log.debug("event %s %s committed", link.seq, link.type)
                self.bus.publish(link)
        if any(w.error is None for w in group):
            self.notifier.after_commit()

    def _decide_one(self, session: Session, waiting: _Waiting) -> None:
        head = session.info.get(_HEAD)
        try:
            with session.begin_nested():  # a refusal or a conflict rolls back this decision only
                decided = waiting.decision(session)
                payloads = [decided.events] if isinstance(decided.events, EventPayload) else list(decided.events)
                stored = []
                for payload in payloads:
                    _refuse_if_sealed(session, payload)
                    link = self._link(session, payload, waiting.actor_id)
                    projections.apply(session, payload, link)
                    stored.append(link)
                session.flush()
        except IntegrityError as exc:  # its savepoint is rolled back: the transaction goes on
            waiting.error = _conflict(exc)
            session.info[_HEAD] = head
        except DBAPIError:
            raise  # the transaction itself is in trouble (disk full, connection lost): the whole group fails
        except Exception as exc:  # refused (a ``MeetingRoomError``), or a bug in this one decision: the others go on
            waiting.error = exc
            session.info[_HEAD] = head
        else:
            waiting.stored, waiting.result = stored, decided.result

    def _decide_run(self, session: Session, run: list[_Waiting]) -> None:
        """Decide a run of ``Together`` decisions by one call in one savepoint; if it fails as a whole, each alone."""
        head = session.info.get(_HEAD)
        together = run[0].together
        assert together is not None
        outcomes: list[tuple[_Waiting, Decided[Any], list[EventPayload]]] = []
        alone: list[_Waiting] = []
        try:
            with session.begin_nested():
                decided_all = together.decide_all(session, [w.together.item for w in run if w.together is not None])
                if len(decided_all) != len(run):
                    raise RuntimeError(f"decide_all answered {len(decided_all)} of {len(run)} decisions")
                linked: list[tuple[EventPayload, StoredEvent]] = []
                for waiting, decided in zip(run, decided_all, strict=True):
                    if decided is None:
                        alone.append(waiting)
                    elif isinstance(decided, Exception):
                        waiting.error = decided
                    else:
                        payloads = [decided.events] if isinstance(decided.events, EventPayload) else list(decided.events)
                        outcomes.append((waiting, decided, payloads))
                        for payload in payloads:
                            _refuse_if_sealed(session, payload)
                            linked.append((payload, self._link(session, payload, waiting.actor_id)))
                projections.apply_all(session, linked)
                session.flush()
        except DBAPIError as exc:
            if not isinstance(exc, IntegrityError):
                raise  # the transaction itself is in trouble: the whole group fails
            self._decide_each(session, run, head)
        except Exception:  # refused as a whole (the poll closed), or a bug: each alone gets its own answer
            log.debug("a run of %d decisions is decided one by one", len(run), exc_info=True)
            self._decide_each(session, run, head)
        else:
            stored = iter(link for _, link in linked)
            for waiting, decided, payloads in outcomes:
                waiting.stored, waiting.result = [next(stored) for _ in payloads], decided.result
            for waiting in alone:
                self._decide_one(session, waiting)

    def _decide_each(self, session: Session, run: list[_Waiting], head: Any) -> None:
        session.info[_HEAD] = head
        for waiting in run:
            waiting.error, waiting.stored, waiting.result = None, [], None
            self._decide_one(session, waiting)

    def _link(self, session: Session, payload: EventPayload, actor_id: str | None) -> StoredEvent:
        last = session.info.get(_HEAD)  # the head this transaction linked last (no other writer meanwhile: locked)
        if last is None:
            last = session.execute(select(EventRow.seq, EventRow.hash).order_by(EventRow.seq.desc()).limit(1)).first() or (0, GENESIS)
        seq, prev = last[0] + 1, last[1]
        data = payload.model_dump(mode="json", exclude_unset=True)
        body = canonical_json(data)
        occurred_at = self._clock().astimezone(UTC).isoformat(timespec="microseconds")
        meeting_id = payload.meeting_scope
        digest = link_hash(seq, prev, payload.type, meeting_id, actor_id, occurred_at, body)
        row = {"seq": seq, "type": payload.type, "meeting_id": meeting_id, "actor_id": actor_id, "occurred_at": occurred_at,
               "payload": body, "prev_hash": prev, "hash": digest}  # fmt: skip
        session.connection().execute(_INSERT_EVENT, row)  # a plain insert: the ORM's flush of one new row cost ~4x more
        session.info[_HEAD] = (seq, digest)
        return StoredEvent(seq, payload.type, meeting_id, actor_id, occurred_at, data, digest, prev)

    def scrub(self, *tables: str) -> None:
        """Leave no old images of these tables' deleted rows where a copy of the database would find them.

        SQLite (``secure_delete`` is on, so deleted cells are zeroed in their pages): checkpoint the
        WAL into the database and truncate it, so no frame keeps an older image of a page.
        PostgreSQL: ``VACUUM FULL`` rewrites the tables into new files without their dead tuples.
        A reader holding an old snapshot can keep it from finishing: then it is tried again in the
        background every second until it succeeds (the close itself has committed either way).
        """
        if not self._scrub_once(tables):
            threading.Thread(target=self._scrub_until_done, args=(tables,), name="scrub", daemon=True).start()

    def _scrub_once(self, tables: tuple[str, ...]) -> bool:
        try:
            if self.engine.dialect.name == "sqlite":
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA busy_timeout=3000")  # never hold up the close for long
                    try:
                        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
                    finally:
                        conn.exec_driver_sql("PRAGMA busy_timeout=30000")
                return not (busy and busy[0])
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("SET lock_timeout = '3s'")  # other rooms' votes go on meanwhile
                try:
                    for table in tables:
                        conn.exec_driver_sql(f'VACUUM FULL "{table}"')
                finally:
                    conn.exec_driver_sql("RESET lock_timeout")
            return True
        except Exception as exc:
            log.warning("could not scrub %s yet: %s", ", ".join(tables), exc)
            return False

    def _scrub_until_done(self, tables: tuple[str, ...], tries: int = 600) -> None:
        for _ in range(tries):
            time.sleep(1.0)
            if self._scrub_once(tables):
                log.info("scrubbed %s", ", ".join(tables))
                return
        log.error("could not scrub %s in %d tries: old ballot-box pages stay until the next checkpoint", ", ".join(tables), tries)

    # --- reading the log ---------------------------------------------------------------------

    def events(
        self, *, meeting_id: str | None = None, after: int = 0, limit: int | None = None, type_prefix: str | None = None
    ) -> list[StoredEvent]:
        query = select(EventRow).where(EventRow.seq > after).order_by(EventRow.seq)
        if meeting_id is not None:
            query = query.where(EventRow.meeting_id == meeting_id)
        if type_prefix is not None:
            query = query.where(EventRow.type.startswith(type_prefix, autoescape=True))
        if limit is not None:
            query = query.limit(limit)
        with self.read() as session:
            return [StoredEvent.from_row(row) for row in session.scalars(query)]

    def is_empty(self) -> bool:
        return self.head_seq() == 0

    def head_seq(self) -> int:
        """The newest event's sequence number (0 for an empty store)."""
        with self.read() as session:
            return session.scalar(select(func.max(EventRow.seq))) or 0

    def verify(self) -> ChainReport:
        """Check every link of the chain; the report names the first broken one."""
        with self.read() as session:
            rows = session.execute(
                select(
                    EventRow.seq,
                    EventRow.type,
                    EventRow.meeting_id,
                    EventRow.actor_id,
                    EventRow.occurred_at,
                    EventRow.payload,
                    EventRow.prev_hash,
                    EventRow.hash,
                )
                .order_by(EventRow.seq)
                .execution_options(yield_per=2000)
            )
            return verify_links(ChainLink(*row) for row in rows)

    def rebuild(self) -> int:
        """Empty the read models and replay every event into them; returns the number replayed."""
        count = 0
        with self._lock, self._write_session() as session:
            for table in DERIVED_TABLES:
                session.execute(delete(table))
                if session.bind is not None and session.bind.dialect.name == "postgresql":  # numbered from 1 again, as on SQLite
                    for column in table.primary_key.columns:
                        serial = "SELECT setval(pg_get_serial_sequence(:t, :c), 1, false) WHERE pg_get_serial_sequence(:t, :c) IS NOT NULL"
                        session.execute(text(serial), {"t": table.name, "c": column.name})
            for row in session.scalars(select(EventRow).order_by(EventRow.seq)).all():
                stored = StoredEvent.from_row(row)
                projections.apply(session, parse_payload(row.type, stored.data), stored)
                count += 1
        return count

"""The store on SQLite and PostgreSQL: one writer, a hash chain, derived read models."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.db import make_engine, migrate
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, NotFoundError
from meeting_room.store import Decided, Store, Together


def _body(n: int) -> ev.BodyCreated:
    return ev.BodyCreated(body_id=f"b{n}", name=f"Ủy ban nhân dân xã {n}", short_name="UBND")


def _read_models(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with store.read() as session:
        for table in t.DERIVED_TABLES:
            rows = session.execute(select(table)).all()
            out[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


def test_append_links_each_event_to_the_previous(any_store: Store) -> None:
    first = any_store.append(_body(1), actor_id="a")
    second = any_store.append(_body(2))
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == "0" * 64 and second.prev_hash == first.hash
    report = any_store.verify()
    assert report.ok and report.events == 2 and report.head == second.hash
    with any_store.read() as session:
        assert session.get_one(t.Body, "b1").name == "Ủy ban nhân dân xã 1"


def test_a_refused_decision_writes_nothing(any_store: Store) -> None:
    any_store.append(_body(1))

    def decide(session: Session) -> ev.EventPayload:
        session.add(t.Credential(member_id="x", password_hash="h", updated_at=datetime.now(UTC)))
        raise NotFoundError("không có", "nothing")

    with pytest.raises(NotFoundError):
        any_store.append(decide)
    assert any_store.verify().events == 1
    with any_store.read() as session:
        assert session.get(t.Credential, "x") is None  # rolled back with the decision


def test_a_decision_hands_back_its_result_with_the_stored_events(any_store: Store) -> None:
    any_store.append(_body(1))

    def decide(session: Session) -> Decided[list[str]]:
        before = sorted(session.scalars(select(t.Body.id)))  # read inside the write transaction
        return Decided([_body(2), _body(3)], before)

    stored, before = any_store.decide(decide, actor_id="a")
    assert before == ["b1"]
    assert [(e.seq, e.type, e.actor_id) for e in stored] == [(2, "body.created", "a"), (3, "body.created", "a")]
    assert any_store.verify().events == 3

    def refuse(session: Session) -> Decided[str]:
        raise NotFoundError("không có", "nothing")

    with pytest.raises(NotFoundError):
        any_store.decide(refuse)
    assert any_store.verify().events == 3


def test_database_constraints_become_conflicts_and_write_nothing(any_store: Store) -> None:
    any_store.append(_body(1))
    with pytest.raises(ConflictError):
        any_store.append(ev.BodyCreated(body_id="b1", name="Tên khác", short_name="X"))  # same id
    with pytest.raises(ConflictError):  # a member of a body that does not exist
        any_store.append(ev.MemberCreated(member_id="m", body_id="nope", full_name="A", roles=[]))
    assert any_store.verify().events == 1


def test_concurrent_writers_produce_one_linear_chain(any_store: Store) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(15):
                any_store.append(_body(k * 100 + i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    report = any_store.verify()
    assert report.ok and report.events == 60


def test_decisions_arriving_during_a_commit_commit_together_and_fail_alone(any_store: Store) -> None:
    """Group commit: while one decision holds the writer the others queue; the next writer decides
    them all in one transaction (in one thread), each seeing the ones before it, and a refused or
    conflicting one is rolled back alone: its caller gets the error, the others their events."""
    any_store.append(_body(1))
    holding, release = threading.Event(), threading.Event()
    ran_in: dict[str, int] = {}
    outcomes: dict[str, Any] = {}

    def first(session: Session) -> Decided[None]:
        holding.set()
        release.wait(60)
        return Decided(_body(2), None)

    def body(n: int) -> Callable[[Session], Decided[list[str]]]:
        def decide(session: Session) -> Decided[list[str]]:
            ran_in[f"b{n}"] = threading.get_ident()
            return Decided(_body(n), sorted(session.scalars(select(t.Body.id))))

        return decide

    def refused(session: Session) -> Decided[None]:
        session.add(t.Credential(member_id="x", password_hash="h", updated_at=datetime.now(UTC)))
        raise NotFoundError("không có", "nothing")

    def duplicate(session: Session) -> Decided[None]:
        return Decided(ev.BodyCreated(body_id="b1", name="Tên khác", short_name="X"), None)

    def run(name: str, decision: Callable[[Session], Decided[Any]]) -> None:
        try:
            outcomes[name] = any_store.decide(decision)
        except Exception as exc:
            outcomes[name] = exc

    leader = threading.Thread(target=run, args=("b2", first))
    leader.start()
    assert holding.wait(30)
    followers = {"b3": body(3), "refused": refused, "b4": body(4), "duplicate": duplicate, "b5": body(5)}
    threads = [threading.Thread(target=run, args=item) for item in followers.items()]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 30
    while any_store.queued() < len(followers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any_store.queued() == len(followers)
    release.set()
    for th in [leader, *threads]:
        th.join(60)

    assert isinstance(outcomes["refused"], NotFoundError) and isinstance(outcomes["duplicate"], ConflictError)
    committed = {name: outcomes[name] for name in ("b3", "b4", "b5")}
    assert len(set(ran_in.values())) == 1  # one writer decided the whole group
    seqs = sorted(stored[0].seq for stored, _ in committed.values())
    assert seqs == [3, 4, 5]
    for name, (stored, seen) in committed.items():
        earlier = {f"b{n}" for n in range(3, 6) if outcomes[f"b{n}"][0][0].seq < stored[0].seq}
        assert set(seen) == {"b1", "b2"} | earlier, name  # the group's earlier decisions, not the refused ones
    report = any_store.verify()
    assert report.ok and report.events == 5
    with any_store.read() as session:
        assert session.get(t.Credential, "x") is None
        assert sorted(session.scalars(select(t.Body.id))) == ["b1", "b2", "b3", "b4", "b5"]


def test_neighbours_that_may_go_together_are_decided_by_one_call_and_alone_when_it_fails(any_store: Store) -> None:
    """``Together``: a run of queued neighbours with one key is decided by one ``decide_all``; each gets
    its own answer (its events, its refusal, or "decide me alone", done after the run). A plain decision
    ends a run. A run that conflicts as a whole is rolled back and each of it decided alone."""
    any_store.append(_body(1))
    holding, release = threading.Event(), threading.Event()
    calls: list[list[str]] = []
    outcomes: dict[str, Any] = {}

    def decide_all(session: Session, items: Sequence[str]) -> list[Decided[str] | Exception | None]:
        calls.append(list(items))
        seen = sorted(session.scalars(select(t.Body.id)))
        out: list[Decided[str] | Exception | None] = []
        for item in items:
            if item == "refused":
                out.append(NotFoundError("không có", "nothing"))
            elif item == "alone":
                out.append(None)
            elif item == "dup":
                out.append(Decided(ev.BodyCreated(body_id="b1", name="Tên khác", short_name="X"), ",".join(seen)))
            else:
                out.append(Decided(_body(int(item)), ",".join(seen)))
        return out

    def alone(session: Session) -> Decided[str]:
        return Decided(_body(9), ",".join(sorted(session.scalars(select(t.Body.id)))))

    def one(item: str) -> Callable[[Session], Decided[str]]:
        def decide(session: Session) -> Decided[str]:
            (outcome,) = decide_all(session, [item])
            if isinstance(outcome, Exception):
                raise outcome
            assert outcome is not None
            return outcome

        return alone if item == "alone" else decide

    def run(name: str) -> None:
        try:
            if name == "plain":
                outcomes[name] = any_store.decide(lambda s: Decided(_body(7), "plain"))
            else:
                outcomes[name] = any_store.decide(one(name), together=Together("bodies", name, decide_all))
        except Exception as exc:
            outcomes[name] = exc

    def hold(session: Session) -> Decided[None]:
        holding.set()
        release.wait(60)
        return Decided(_body(8), None)

    leader = threading.Thread(target=lambda: any_store.decide(hold))
    leader.start()
    assert holding.wait(30)
    order = ["2", "refused", "alone", "3", "plain", "4", "dup"]
    threads = []
    for name in order:  # one at a time: the queue keeps this order
        threads.append(threading.Thread(target=run, args=(name,)))
        threads[-1].start()
        deadline = time.monotonic() + 30
        while any_store.queued() < len(threads) and time.monotonic() < deadline:
            time.sleep(0.005)
    assert any_store.queued() == len(order)
    release.set()
    for th in [leader, *threads]:
        th.join(60)

    assert calls[:2] == [["2", "refused", "alone", "3"], ["4", "dup"]]  # the plain one ended the first run
    assert calls[2:] == [["4"], ["dup"]]  # the second conflicted as a whole: each alone
    assert isinstance(outcomes["refused"], NotFoundError) and isinstance(outcomes["dup"], ConflictError)
    stored = {name: outcomes[name][0][0] for name in ("2", "3", "alone", "plain", "4")}
    assert [stored[n].seq for n in ("2", "3", "alone", "plain", "4")] == [3, 4, 5, 6, 7]  # the one left alone right after its run
    assert outcomes["alone"][1] == "b1,b2,b3,b8"  # it saw its run's effects
    assert outcomes["4"][1] == "b1,b2,b3,b7,b8,b9"
    report = any_store.verify()
    assert report.ok and report.events == 7
    with any_store.read() as session:
        assert sorted(session.scalars(select(t.Body.id))) == ["b1", "b2", "b3", "b4", "b7", "b8", "b9"]


def test_awaiting_callers_share_group_commits_with_threads_and_a_failed_group_stops_nobody(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``decide_async``: callers on the event loop wait without a thread each, in the same group commits
    as ``decide`` callers on threads, and each gets its own events. A group that fails in the database
    gives each of its callers its own copy of the error; the callers queued behind it are decided."""
    any_store.append(_body(1))
    groups: list[list[bool]] = []  # per group committed: which of its decisions came from awaiting callers
    commit_group = any_store._commit_group

    def recording(group: list[Any]) -> None:
        groups.append([w.answer is not None for w in group])
        commit_group(group)

    monkeypatch.setattr(any_store, "_commit_group", recording)
    lead_held, failing_held = threading.Event(), threading.Event()

    def body(n: int) -> Callable[[Session], Decided[int]]:
        return lambda session: Decided(_body(n), n)

    def holding(n: int) -> Callable[[Session], Decided[int]]:
        def decide(session: Session) -> Decided[int]:
            assert lead_held.wait(30)
            return Decided(_body(n), n)

        return decide

    def broken(session: Session) -> Decided[None]:
        assert failing_held.wait(30)
        raise OperationalError("INSERT …", {}, Exception("disk I/O error"))

    async def until(condition: Callable[[], bool], what: str) -> None:
        for _ in range(3000):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"not reached within 30 s: {what}")

    async def scenario() -> tuple[list[Any], int, list[Any], list[Any]]:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=11) as pool:
            threads_before = threading.active_count()
            first = loop.run_in_executor(pool, any_store.decide, holding(2))  # leads, and holds the lead
            await until(lambda: len(groups) == 1, "the first caller leads")
            on_threads = [loop.run_in_executor(pool, any_store.decide, body(n)) for n in range(3, 13)]
            awaiting = [asyncio.ensure_future(any_store.decide_async(body(n))) for n in range(13, 53)]
            await until(lambda: any_store.queued() == 50, "fifty callers queued behind the lead")
            extra_threads = threading.active_count() - threads_before  # the pool's, and one drain thread
            lead_held.set()
            mixed = await asyncio.wait_for(asyncio.gather(first, *on_threads, *awaiting), 60)

            lead_held.clear()
            first = loop.run_in_executor(pool, any_store.decide, holding(53))
            await until(lambda: len(groups) == 3, "a caller leads again")
            failing: list[asyncio.Future[Any]] = [asyncio.ensure_future(any_store.decide_async(broken))]
            failing.append(asyncio.ensure_future(any_store.decide_async(body(54))))
            await until(lambda: any_store.queued() == 2, "the failing group queued")
            lead_held.set()
            await until(lambda: len(groups) == 4, "the failing group is being decided")
            behind: list[asyncio.Future[Any]] = [asyncio.ensure_future(any_store.decide_async(body(n))) for n in range(55, 58)]
            behind.append(loop.run_in_executor(pool, any_store.decide, body(58)))
            await until(lambda: any_store.queued() == 4, "callers queued behind the failing group")
            failing_held.set()
            failed = await asyncio.wait_for(asyncio.gather(first, *failing, return_exceptions=True), 60)
            after = await asyncio.wait_for(asyncio.gather(*behind), 60)
        return list(mixed), extra_threads, list(failed), list(after)

    mixed, extra_threads, failed, after = asyncio.run(scenario())
    assert [result for _, result in mixed] == list(range(2, 53))
    assert sorted(stored[0].seq for stored, _ in mixed) == list(range(2, 53))
    assert groups[1] == [False] * 10 + [True] * 40  # one group for both kinds, in arrival order
    assert extra_threads <= 11 + 1  # forty awaiting callers held no thread
    assert failed[0][1] == 53 and all(isinstance(e, OperationalError) for e in failed[1:])
    assert failed[1] is not failed[2]  # each caller raises its own copy
    assert sorted(groups[4]) == [False, True, True, True]  # both kinds behind the failed group: decided
    assert sorted(stored[0].seq for stored, _ in after) == [54, 55, 56, 57]

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    for _ in range(600):  # until the drain thread has ended (it lingers a moment for more)
        with any_store._queue_changed:
            if not any_store._draining:
                break
        time.sleep(0.05)
    assert not any_store._draining
    with monkeypatch.context() as patched:  # nobody to lead: the caller is refused and nothing of it stays queued
        patched.setattr(threading.Thread, "start", no_thread)
        with pytest.raises(RuntimeError, match="new thread"):
            asyncio.run(any_store.decide_async(body(70)))
    assert any_store.decide(body(71))[0][0].seq == 58  # 70 was never decided, not even by the next leader
    assert asyncio.run(any_store.decide_async(body(72)))[0][0].seq == 59  # the next awaiting caller has a leader
    report = any_store.verify()
    assert report.ok and report.events == 59


def test_two_stores_on_one_database_cannot_fork_the_chain(any_store: Store) -> None:
    """Two server processes share the database: the database lock, not the thread lock, keeps one chain."""
    other = Store(make_engine(any_store.engine.url.render_as_string(hide_password=False)))
    threads = [
        threading.Thread(target=lambda s=s, k=k: [s.append(_body(k * 100 + i)) for i in range(10)])
        for k, s in enumerate([any_store, other, any_store, other])
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    other.engine.dispose()
    report = any_store.verify()
    assert report.ok and report.events == 40


def test_verify_finds_a_changed_payload(any_store: Store) -> None:
    for i in range(5):
        any_store.append(_body(i))
    with any_store.engine.begin() as conn:
        conn.execute(update(t.EventRow).where(t.EventRow.seq == 3).values(payload=text("replace(payload, 'xã', 'phường')")))
    report = any_store.verify()
    assert (report.ok, report.broken_at, report.events) == (False, 3, 2)


def test_verify_finds_a_deleted_event(any_store: Store) -> None:
    for i in range(5):
        any_store.append(_body(i))
    with any_store.engine.begin() as conn:
        conn.execute(delete(t.EventRow).where(t.EventRow.seq == 4))
    report = any_store.verify()
    assert (report.ok, report.broken_at) == (False, 5)


def test_rebuild_reproduces_the_read_models(any_store: Store) -> None:
    any_store.append(_body(1))
    any_store.append(ev.BodyUpdated(body_id="b1", parent_name="Tỉnh A"))
    any_store.append(ev.MemberCreated(member_id="m1", body_id="b1", full_name="Nguyễn Thị Thu", roles=["member"], username="thu"))
    any_store.append(ev.MemberCreated(member_id="m2", body_id="b1", full_name="Lê Văn Nam", roles=["chair"]))
    any_store.append(ev.RoomCreated(room_id="r1", name="Phòng 1", seats=[ev.SeatSpec(seat_id="s1", label="A1", position=1)]))
    starts = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    any_store.append(ev.MeetingScheduled(meeting_id="mt", body_id="b1", title="Họp", room_id="r1", starts_at=starts, chair_id="m2"))
    any_store.append(ev.MeetingUpdated(meeting_id="mt", room_id=None, ends_at=starts + timedelta(hours=2)))
    any_store.append(ev.ParticipantAdded(meeting_id="mt", member_id="m1", role="member"))
    any_store.append(ev.AgendaItemAdded(meeting_id="mt", item_id="i1", position=1, title="Một"))
    any_store.append(ev.AgendaItemAdded(meeting_id="mt", item_id="i2", position=2, title="Hai"))
    any_store.append(ev.AgendaReordered(meeting_id="mt", item_ids=["i2", "i1"]))
    any_store.append(ev.MeetingStateChanged(meeting_id="mt", from_state="scheduled", to_state="open"))
    any_store.append(ev.AttendanceRecorded(meeting_id="mt", member_id="m1", status="present_in_room", source="manual"))
    before = _read_models(any_store)
    with any_store.read() as session:
        assert session.get_one(t.Meeting, "mt").room_id is None  # an explicit null clears
        assert session.get_one(t.AgendaItem, "i2").position == 1
    assert any_store.rebuild() == 13
    assert _read_models(any_store) == before


def test_migrations_are_idempotent(any_store: Store) -> None:
    any_store.append(_body(1))
    migrate(any_store.engine)
    assert any_store.verify().events == 1


def test_events_by_meeting_and_after(any_store: Store) -> None:
    any_store.append(_body(1))
    starts = datetime(2026, 12, 1, tzinfo=UTC)
    any_store.append(ev.MeetingScheduled(meeting_id="mt", body_id="b1", title="Họp", starts_at=starts))
    any_store.append(_body(2))
    any_store.append(ev.AgendaItemAdded(meeting_id="mt", item_id="i1", position=1, title="Một"))
    assert [e.seq for e in any_store.events(meeting_id="mt")] == [2, 4]
    assert [e.seq for e in any_store.events(meeting_id="mt", after=2)] == [4]
    assert any_store.events(after=1, limit=1)[0].type == "meeting.scheduled"

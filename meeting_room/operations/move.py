"""Moving a server's database to another engine (a room server's SQLite to the province's central
PostgreSQL): the event log row for row with its hashes, the read models rebuilt on the target from
that log (each engine indexes search its own way), then every table that is not derived from the
log (credentials, sessions, biometric enrolments, teller keys, the ballot box) row for row. The
target must be empty; the source is only read. Checked at the end: the same number of events and
head hash, the whole chain, every poll recounted, every copied table with the same row count."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, Table, func, select

from meeting_room.db import make_engine, migrate
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, MeetingRoomError
from meeting_room.operations.integrity import quick_check
from meeting_room.operations.upgrade import plan
from meeting_room.services.polls import verify_polls
from meeting_room.settings import Settings
from meeting_room.store import Store

BATCH = 1000


class MoveError(MeetingRoomError):
    """The move did not happen or did not check out; the source is untouched."""


@dataclass(frozen=True)
class MoveReport:
    events: int
    head: str
    tables: dict[str, int]  # copied table -> rows
    replayed: int
    polls_recounted: int
    seconds: float


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _copy(source: Engine, target: Engine, table: Table) -> int:
    copied = 0
    with source.connect() as src, target.begin() as dst:
        result = src.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        while batch := result.fetchmany(BATCH):
            dst.execute(table.insert(), [dict(row) for row in batch])
            copied += len(batch)
    return copied


def move_database(settings: Settings, target_url: str) -> MoveReport:
    started = time.perf_counter()
    source = make_engine(settings.effective_database_url)
    target = make_engine(target_url)
    try:
        quick_check(source)
        before = plan(source)
        if before.pending:
            raise MoveError(
                f"Cơ sở dữ liệu nguồn chưa ở phiên bản mới nhất ({before.current}); hãy chạy `meeting-room upgrade` trước",
                f"The source database is not at the newest revision ({before.current}); run `meeting-room upgrade` first",
            )
        if before.open_meetings:
            names = "; ".join(f"“{title}”" for _, title, _ in before.open_meetings)
            raise ConflictError(
                f"Không chuyển cơ sở dữ liệu khi đang có cuộc họp diễn ra: {names}",
                f"Not moving the database while a meeting is in progress: {names}",
            )
        migrate(target)
        held = [table.name for table in t.Base.metadata.sorted_tables if _count(target, table)]
        if held:
            raise MoveError(
                f"Cơ sở dữ liệu đích đã có dữ liệu ({', '.join(held[:5])}): chỉ chuyển vào cơ sở dữ liệu trống",
                f"The target database already holds data ({', '.join(held[:5])}): the move goes into an empty database only",
                tables=held,
            )
        source_chain = Store(source).verify()
        if not source_chain.ok:
            raise MoveError(
                f"Nhật ký sự kiện nguồn hỏng tại sự kiện {source_chain.broken_at}: hãy chạy `meeting-room verify`",
                f"The source event log is broken at event {source_chain.broken_at}: run `meeting-room verify`",
            )
        tables = t.Base.metadata.tables
        copied = {"events": _copy(source, target, tables["events"])}
        store = Store(target)
        replayed = store.rebuild()
        derived = {table.name for table in t.DERIVED_TABLES}
        for table in t.Base.metadata.sorted_tables:
            if table.name not in derived and table.name != "events":
                copied[table.name] = _copy(source, target, table)
        moved = store.verify()
        if not moved.ok or (moved.events, moved.head) != (source_chain.events, source_chain.head):
            raise MoveError(
                f"Nhật ký sau khi chuyển không khớp nguồn ({moved.events} sự kiện, lỗi: {moved.problem})",
                f"The moved event log does not match the source ({moved.events} events, problem: {moved.problem})",
            )
        mismatched = [name for name in copied if _count(target, tables[name]) != _count(source, tables[name])]
        derived_mismatch = [table.name for table in t.DERIVED_TABLES if _count(target, table) != _count(source, table)]
        audit = verify_polls(store)
        if mismatched or derived_mismatch or not audit.ok:
            raise MoveError(
                f"Kiểm tra sau khi chuyển không khớp: {', '.join(mismatched + derived_mismatch + audit.problems)}",
                f"Checks after the move do not match: {', '.join(mismatched + derived_mismatch + audit.problems)}",
            )
        return MoveReport(moved.events, moved.head, copied, replayed, audit.checked, time.perf_counter() - started)
    finally:
        source.dispose()
        target.dispose()

"""Upgrading an installed server: back up, migrate, check, or leave everything as it was.

The order is fixed because meeting records are legal documents:
1. refuse while a meeting is open (a vote's ballot box, a live recording) unless forced;
2. take a full backup (``operations.backup``) before the schema is touched;
3. run every pending migration in one transaction (``db.migrate``): a failing one rolls all back;
4. check that the event log is the one we started with (same count, same head hash, chain intact),
   replay the read models with the new code, recount every closed poll.
On a failure at 3 the database is checked to be at its old revision with its old head; if it is
not (a migration that committed part of its work, which one transaction should make impossible),
the database is put back from the backup. The caller (``scripts/upgrade.sh``) then starts the
previous release again.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from meeting_room.db import make_engine, migrate
from meeting_room.db.engine import MIGRATIONS_DIR, alembic_config
from meeting_room.errors import ConflictError, MeetingRoomError
from meeting_room.lifecycle import MeetingState
from meeting_room.operations.backup import DB_SQLITE, backup
from meeting_room.operations.datadir import private_umask
from meeting_room.operations.integrity import quick_check
from meeting_room.services.polls import verify_polls
from meeting_room.settings import Settings
from meeting_room.store import Store

log = logging.getLogger(__name__)

# A meeting in one of these states has people in it: an upgrade would cut them off.
IN_PROGRESS = (MeetingState.OPEN, MeetingState.IN_SESSION, MeetingState.ADJOURNED)
BACKUPS = "upgrade-backups"


class UpgradeRefusedError(ConflictError):
    """Nothing was done: a meeting is open (and ``force`` was not given)."""


class UpgradeFailedError(MeetingRoomError):
    """A migration or a check after it failed; the database is back as it was before."""


@dataclass(frozen=True)
class Plan:
    current: str | None  # None: a new, empty database
    head: str
    pending: list[str]
    open_meetings: list[tuple[str, str, str]]  # (id, title, state)


@dataclass(frozen=True)
class UpgradeReport:
    plan: Plan
    backup: Path | None
    events: int
    head_hash: str
    replayed: int
    polls_recounted: int
    seconds: float


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def plan(engine: Engine, migrations_dir: Path = MIGRATIONS_DIR) -> Plan:
    """What an upgrade of this database would do (reads only)."""
    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False), migrations_dir))
    head = script.get_current_head() or ""
    current = current_revision(engine)
    pending = [rev.revision for rev in script.iterate_revisions(head, current)][::-1] if current != head else []
    meetings: list[tuple[str, str, str]] = []
    if "meetings" in inspect(engine).get_table_names():
        states = tuple(s.value for s in IN_PROGRESS)
        with engine.connect() as conn:  # plain SQL: the table as any revision has it
            rows = conn.execute(
                text("SELECT id, title, state FROM meetings WHERE state IN ({})".format(", ".join(f"'{s}'" for s in states)))
            ).all()
        meetings = [(str(r[0]), str(r[1]), str(r[2])) for r in rows]
    return Plan(current, head, pending, meetings)


def _log_state(engine: Engine) -> tuple[int, str]:
    if "events" not in inspect(engine).get_table_names():
        return 0, ""
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())
        head = conn.execute(text("SELECT hash FROM events ORDER BY seq DESC LIMIT 1")).scalar() or ""
    return count, str(head)


def upgrade(
    settings: Settings, *, force: bool = False, backup_dir: Path | None = None, migrations_dir: Path = MIGRATIONS_DIR
) -> UpgradeReport:
    started = time.perf_counter()
    private_umask()
    settings.prepare_data_dir()
    engine = make_engine(settings.effective_database_url)
    try:
        quick_check(engine)
        todo = plan(engine, migrations_dir)
        if todo.open_meetings and not force:
            names = "; ".join(f"“{title}” ({state})" for _, title, state in todo.open_meetings)
            raise UpgradeRefusedError(
                f"Không nâng cấp khi đang có cuộc họp diễn ra: {names}. Hãy bế mạc trước, hoặc dùng --force.",
                f"Not upgrading while a meeting is in progress: {names}. Close it first, or use --force.",
                meetings=[m[0] for m in todo.open_meetings],
            )
        events, head_hash = _log_state(engine)
        saved: Path | None = None
        if todo.pending and todo.current is not None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            saved = (backup_dir or settings.data_dir / BACKUPS) / f"{stamp}-from-{todo.current}"
            backup(settings, Store(engine), saved)
            log.info("upgrade: backup in %s", saved)
        try:
            migrate(engine, migrations_dir=migrations_dir)
        except Exception as exc:
            _put_back(engine, settings, todo, events, head_hash, saved)
            reason = getattr(exc, "message_en", None) or str(getattr(exc, "orig", exc)).splitlines()[0]
            raise UpgradeFailedError(
                f"Nâng cấp cơ sở dữ liệu thất bại ({reason}); cơ sở dữ liệu vẫn ở phiên bản {todo.current} với "
                f"{events} sự kiện như trước. Hãy chạy lại phiên bản cũ. Bản sao lưu: {saved}",
                f"The database upgrade failed ({reason}); the database is still at revision {todo.current} with its "
                f"{events} events as before. Start the previous version again. Backup: {saved}",
                revision=todo.current,
                backup=str(saved) if saved else None,
            ) from exc
        store = Store(engine)
        report = store.verify()
        if not report.ok or report.events != events or (events and report.head != head_hash):
            raise UpgradeFailedError(
                f"Sau khi nâng cấp, nhật ký sự kiện không khớp ({report.events} sự kiện, lỗi: {report.problem}); "
                f"hãy khôi phục bản sao lưu {saved}",
                f"After the upgrade the event log does not match ({report.events} events, problem: {report.problem}); "
                f"restore the backup {saved}",
            )
        replayed = store.rebuild() if todo.pending else 0  # read models as the new code builds them
        audit = verify_polls(store)
        if not audit.ok:
            raise UpgradeFailedError(
                f"Kiểm lại phiếu sau nâng cấp không khớp: {'; '.join(audit.problems)}",
                f"Recounting the polls after the upgrade found mismatches: {'; '.join(audit.problems)}",
            )
        return UpgradeReport(todo, saved, events, head_hash, replayed, audit.checked, time.perf_counter() - started)
    finally:
        engine.dispose()


def _put_back(engine: Engine, settings: Settings, todo: Plan, events: int, head_hash: str, saved: Path | None) -> None:
    """After a failed migration: leave the database as it was, from the backup if need be."""
    engine.dispose()
    if current_revision(engine) == todo.current and _log_state(engine) == (events, head_hash):
        log.warning("upgrade failed; the database is unchanged at revision %s", todo.current)
        return
    if saved is None or engine.dialect.name != "sqlite" or not engine.url.database:
        raise UpgradeFailedError(
            f"Nâng cấp thất bại và cơ sở dữ liệu đã thay đổi một phần; hãy khôi phục bằng `meeting-room restore {saved}`",
            f"The upgrade failed and the database changed in part; restore it with `meeting-room restore {saved}`",
        )
    target = Path(engine.url.database)
    engine.dispose()
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(saved / DB_SQLITE, target)
    sqlite3.connect(target).close()
    log.warning("upgrade failed; the database was put back from %s", saved)

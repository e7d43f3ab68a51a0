"""Is the record whole? The database file (SQLite ``quick_check``), the tail of the hash chain, and
every stored file the read models name (documents, recordings, signed minutes) against its SHA-256.

Start-up runs the cheap checks (``check_database``); ``meeting-room verify`` runs everything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DatabaseError

from meeting_room.chain import GENESIS, ChainLink, link_hash
from meeting_room.db import tables as t
from meeting_room.errors import DatabaseDamagedError
from meeting_room.settings import Settings

log = logging.getLogger(__name__)
TAIL = 200  # events whose links start-up re-checks


def database_name(engine: Engine) -> str:
    """What the administrator knows the database by: the SQLite file, or the PostgreSQL URL."""
    if engine.dialect.name == "sqlite":
        return str(engine.url.database)
    return engine.url.render_as_string(hide_password=True)


def damaged(engine: Engine, problem_vi: str, problem_en: str) -> DatabaseDamagedError:
    """One readable message naming the database and what to do."""
    name = database_name(engine)
    return DatabaseDamagedError(
        f"Cơ sở dữ liệu {name} bị hỏng: {problem_vi}. Không khởi động để tránh mất thêm dữ liệu. "
        f"Hãy dừng máy chủ, giữ lại bản hỏng để điều tra, rồi khôi phục từ bản sao lưu gần nhất "
        f"(meeting-room restore THƯ_MỤC_SAO_LƯU vào một thư mục dữ liệu trống) và chạy meeting-room verify.",
        f"The database {name} is damaged: {problem_en}. The server will not start, so that nothing more is lost. "
        f"Stop the server, keep the damaged copy for investigation, and restore the newest backup "
        f"(meeting-room restore BACKUP_DIR into an empty data directory), then run meeting-room verify.",
        database=name,
        problem=problem_en,
    )


def is_damage(exc: DatabaseError) -> bool:
    """A damaged file (not a locked or unreachable one)."""
    name = getattr(exc.orig, "sqlite_errorname", "")
    return name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in str(exc.orig) or "not a database" in str(exc.orig)


def quick_check(engine: Engine) -> None:
    """SQLite's ``PRAGMA quick_check`` (pages, b-trees, sizes; not the slower index cross-check)."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    except DatabaseError as exc:
        if not is_damage(exc):
            raise
        raise damaged(engine, f"không đọc được ({exc.orig})", f"it cannot be read ({exc.orig})") from None
    if rows != ["ok"]:
        shown = "; ".join(rows[:3])
        raise damaged(engine, f"kiểm tra toàn vẹn báo lỗi: {shown}", f"the integrity check reports: {shown}")


def check_chain_tail(engine: Engine, count: int = TAIL) -> int:
    """Re-hash the newest ``count`` events and their links; returns how many were checked."""
    with engine.connect() as conn:
        head = conn.execute(select(func.max(t.EventRow.seq))).scalar() or 0
        if head == 0:
            return 0
        first = max(1, head - count + 1)
        rows = conn.execute(
            select(
                t.EventRow.seq, t.EventRow.type, t.EventRow.meeting_id, t.EventRow.actor_id, t.EventRow.occurred_at,
                t.EventRow.payload, t.EventRow.prev_hash, t.EventRow.hash,
            ).where(t.EventRow.seq >= first - 1).order_by(t.EventRow.seq)
        ).all()  # fmt: skip
    links = [ChainLink(*row) for row in rows]
    prev = GENESIS if first == 1 else None
    expected = first - 1 if first > 1 else 1
    for link in links:
        if link.seq != expected:
            raise damaged(engine, f"thiếu sự kiện {expected} trong nhật ký", f"event {expected} is missing from the log")
        if link.seq >= first:
            if prev is not None and link.prev_hash != prev:
                raise damaged(engine, f"chuỗi băm đứt tại sự kiện {link.seq}", f"the hash chain is broken at event {link.seq}")
            actual = link_hash(link.seq, link.prev_hash, link.type, link.meeting_id, link.actor_id, link.occurred_at, link.payload)
            if actual != link.hash:
                raise damaged(engine, f"sự kiện {link.seq} đã bị thay đổi", f"event {link.seq} was changed")
        prev, expected = link.hash, expected + 1
    if expected - 1 != head:
        raise damaged(engine, f"nhật ký dừng ở sự kiện {expected - 1}, không phải {head}", f"the log ends at {expected - 1}, not {head}")
    return len([link for link in links if link.seq >= first])


def check_database(engine: Engine) -> None:
    """Start-up: the file is a sound database and the chain's tail holds. Raises ``DatabaseDamagedError``."""
    quick_check(engine)
    try:
        check_chain_tail(engine)
    except DatabaseError as exc:
        if not is_damage(exc):
            raise
        raise damaged(engine, f"không đọc được nhật ký sự kiện ({exc.orig})", f"the event log cannot be read ({exc.orig})") from None


@dataclass
class FileReport:
    checked: int = 0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (path, vi, en)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_files(engine: Engine, settings: Settings) -> FileReport:
    """Every document, recording and signed minutes PDF the read models name: present, same SHA-256."""
    from meeting_room.files.documents import DocumentFiles
    from meeting_room.files.file_store import sha256_file
    from meeting_room.files.minutes_files import MinutesFiles
    from meeting_room.files.recordings import RecordingFiles

    documents, recordings = DocumentFiles(settings.documents_dir, 0), RecordingFiles(settings.recordings_dir, 0)
    minutes = MinutesFiles.from_settings(settings)
    with engine.connect() as conn:
        wanted: set[tuple[str, Path]] = set()
        wanted |= {(sha, documents.path_of(sha)) for (sha,) in conn.execute(select(t.Document.sha256))}
        wanted |= {(sha, recordings.path_of(sha)) for (sha,) in conn.execute(select(t.Recording.sha256))}
        wanted |= {(sha, minutes.pdf_path(sha)) for (sha,) in conn.execute(select(t.MinutesSignature.pdf_sha256))}
    report = FileReport()
    for sha, path in sorted(wanted, key=lambda x: str(x[1])):
        report.checked += 1
        if not path.is_file():
            report.problems.append((str(path), "bị thiếu", "is missing"))
        elif sha256_file(path) != sha:
            report.problems.append((str(path), "đã bị thay đổi (SHA-256 không khớp)", "was changed (SHA-256 does not match)"))
    return report


def probe_write(engine: Engine) -> None:
    """A write the database must accept (rolled back): raises when it cannot write."""
    with engine.connect() as conn, conn.begin() as tx:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS _probe (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO _probe VALUES (1)")
        else:
            conn.execute(text("SELECT txid_current()"))
        tx.rollback()

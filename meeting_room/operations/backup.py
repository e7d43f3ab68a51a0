"""Backup and restore: a clerk's archive must outlive the machine.

A backup is a folder (0700, files 0600) holding a consistent copy of the database taken while the
server runs (SQLite's online backup API; PostgreSQL ``pg_dump`` in custom format inside an exported
snapshot), the data directory's files (documents, recordings, minutes, certificates, sealed
archives, the local TLS CA), the settings in force with the files they name, and ``manifest.json``
listing every file with its size and SHA-256, and the event log's head at the moment of the copy.

The database is copied first, then the files: files are stored by content hash and written before
the event that names them is committed, so every file the copied database refers to is in the
backup (a file added meanwhile is simply extra).

``restore`` checks every file of the backup against the manifest before it writes anything, fills an
empty data directory and database, and the caller then runs ``verify``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, inspect, select, text

from meeting_room import __version__
from meeting_room.db import make_engine
from meeting_room.db import tables as t
from meeting_room.errors import BackupError
from meeting_room.files.file_store import TEMPORARY_PREFIXES, sha256_file
from meeting_room.operations.datadir import private_umask, secure_tree
from meeting_room.settings import BackupSchedule, Settings
from meeting_room.store import Store

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
DB_SQLITE = "database.sqlite3"
DB_POSTGRES = "database.pgdump"
BALLOT_BOX = "ballot_box"
FACE_ARCHIVES = "face_import_archives"  # photos of imports under way: never in a backup
_NOT_BACKED_UP = "Ảnh tải lên không có trong bản sao lưu / The uploaded photos are not kept in backups"
BALLOTS_JSON = "ballot-box.json"  # PostgreSQL: the open polls' ballots, apart from the dump, in receipt order
FILES = "files"  # the data directory's files, by their path in it
SETTINGS_JSON = "settings.json"
SETTINGS_FILES = "settings-files"  # trust roots, a configured TLS certificate and key
DATA_FOLDERS = ("documents", "recordings", "room-audio", "minutes", "certificates", "signature-images", "archive", "tls", "unknown_faces")
NOT_DATA = {"models", "cache"}  # may be present in a data directory that is restored into
_UNFINISHED = (".part", ".partial")  # files being written end so, or start with TEMPORARY_PREFIXES
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupReport:
    path: Path
    files: int
    size: int
    events: int
    head: str
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    files: int
    size: int
    events: int
    head: str
    seconds: float


# --- making a backup -----------------------------------------------------------------------------


def backup(settings: Settings, store: Store, dest: Path) -> BackupReport:
    """Copy the database and the data directory's files into ``dest`` (absent or empty)."""
    started = time.perf_counter()
    private_umask()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(
            f"Thư mục sao lưu {dest} đã có dữ liệu; hãy chọn thư mục trống hoặc chưa tồn tại",
            f"The backup folder {dest} is not empty; choose an empty or new folder",
            path=str(dest),
        )
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    try:
        entries: list[dict[str, Any]] = []
        kind = store.engine.dialect.name
        if kind == "sqlite":
            events, head = _copy_sqlite(store.engine, work / DB_SQLITE)
            entries.append(_entry(work, DB_SQLITE))
        else:
            events, head = _dump_postgres(store.engine, work / DB_POSTGRES)
            entries.extend([_entry(work, DB_POSTGRES), _entry(work, BALLOTS_JSON)])
        for folder in DATA_FOLDERS:
            root = settings.data_dir / folder
            for path in sorted(_files_under(root)):
                rel = path.relative_to(settings.data_dir).as_posix()
                try:
                    entries.append(_copy_in(path, work, f"{FILES}/{rel}"))
                except FileNotFoundError:  # gone since it was listed (live room audio assembled): nothing names it
                    (work / FILES / rel).unlink(missing_ok=True)
                    log.info("%s disappeared during the backup; skipped", path)
        entries.extend(_settings_files(settings, work))
        manifest = {
            "format": FORMAT,
            "application": "meeting-room",
            "version": __version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": kind,
            "events": events,
            "head": head,
            "files": entries,
        }
        _write(work / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        _fsync_dir(work)
        if dest.exists():
            dest.rmdir()
        work.rename(dest)
        _fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(e["size"] for e in entries)
    return BackupReport(dest, len(entries), size, events, head, time.perf_counter() - started)


def _copy_sqlite(engine: Engine, target: Path) -> tuple[int, str]:
    """``VACUUM INTO``: a consistent copy while writers go on (WAL), written afresh: no free pages
    holding deleted rows, no WAL frames, every table in key order (the ballot box by receipt hash)."""
    source = engine.url.database
    if not source:
        raise BackupError("Không xác định được tệp cơ sở dữ liệu SQLite", "Cannot tell which SQLite file to copy")
    src = sqlite3.connect(source, timeout=30)
    try:
        src.execute("VACUUM INTO ?", (str(target),))
    finally:
        src.close()
    dst = sqlite3.connect(target)
    try:
        _without_face_archives(dst)
        count, last = dst.execute("SELECT count(*), max(seq) FROM events").fetchone()
        head = dst.execute("SELECT hash FROM events WHERE seq = ?", (last,)).fetchone() if last else None
    finally:
        dst.close()
    with target.open("rb") as handle:
        os.fsync(handle.fileno())
    return int(count), head[0] if head else ""


def _without_face_archives(db: sqlite3.Connection) -> None:
    """The photos of face imports under way stay out of a backup (they are kept only while their
    job runs): deleted from the copy with its cells zeroed and no journal on disk; the imports, if
    the backup is restored, end as failed."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FACE_ARCHIVES,)).fetchone() is None:
        return  # a database from before face imports (an upgrade's backup)
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA journal_mode=MEMORY")
    with db:
        db.execute(f"DELETE FROM {FACE_ARCHIVES}")
        db.execute("UPDATE face_imports SET state = 'failed', error = ? WHERE state IN ('queued', 'running')", (_NOT_BACKED_UP,))


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (that goes in PGPASSWORD, never on a command line)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def postgres_tool(engine: Engine, name: str) -> str:
    """``pg_dump``/``pg_restore`` at least as new as the server (Debian keeps each version apart)."""
    with engine.connect() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    candidates = []
    for folder in Path("/usr/lib/postgresql").glob("*/bin"):
        version = folder.parent.name
        if version.isdigit() and int(version) >= major and (folder / name).is_file():
            candidates.append((int(version), str(folder / name)))
    if candidates:
        return min(candidates)[1]
    found = shutil.which(name)
    if found:
        out = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"(\d+)", out.split(")")[-1] if ")" in out else out)
        if match and int(match.group(1)) >= major:
            return found
    raise BackupError(
        f"Không tìm thấy {name} phiên bản {major} trở lên (gói Debian postgresql-client-{major})",
        f"No {name} of version {major} or newer found (Debian package postgresql-client-{major})",
        tool=name,
        server_major=major,
    )


def _dump_postgres(engine: Engine, target: Path) -> tuple[int, str]:
    """``pg_dump`` of an exported snapshot: the head recorded is exactly the dumped one."""
    tool = postgres_tool(engine, "pg_dump")
    url, env = _libpq(engine)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot: str = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            events = int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())
            head = conn.execute(text("SELECT hash FROM events ORDER BY seq DESC LIMIT 1")).scalar() or ""
            ballots = _ballot_box_rows(conn)
            done = subprocess.run(
                [
                    tool,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-owner",
                    "--no-privileges",
                    f"--exclude-table-data={BALLOT_BOX}",
                    f"--exclude-table-data={FACE_ARCHIVES}",
                    f"--file={target}",
                    f"--dbname={url}",
                ],  # fmt: skip
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
    _write(target.with_name(BALLOTS_JSON), json.dumps(ballots, ensure_ascii=False).encode())
    if done.returncode != 0:
        raise BackupError(f"pg_dump thất bại: {done.stderr.strip()}", f"pg_dump failed: {done.stderr.strip()}")
    with target.open("rb") as handle:
        os.fsync(handle.fileno())
    return events, head


def _ballot_box_rows(conn: Connection) -> list[dict[str, Any]]:
    """Ballots of polls still open, in receipt-hash order: a PostgreSQL dump would list them in heap
    order, which is the order they were cast in and could be matched to the log's voters."""
    table = t.Base.metadata.tables[BALLOT_BOX]
    keys = [c for c in table.primary_key.columns]
    return [dict(row._mapping) for row in conn.execute(select(table).order_by(*keys))]


def _files_under(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(TEMPORARY_PREFIXES) and not d.endswith(_UNFINISHED)]
        for name in files:
            path = Path(folder) / name
            if not name.startswith(TEMPORARY_PREFIXES) and not name.endswith(_UNFINISHED) and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def _copy_in(source: Path, work: Path, rel: str) -> dict[str, Any]:
    target = work / rel
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    target.chmod(0o600)
    mode = source.stat().st_mode & 0o700 or 0o600
    return {"path": rel, "size": size, "sha256": digest.hexdigest(), "mode": oct(mode)}


def _entry(work: Path, rel: str) -> dict[str, Any]:
    path = work / rel
    path.chmod(0o600)
    return {"path": rel, "size": path.stat().st_size, "sha256": sha256_file(path), "mode": "0o600"}


def _settings_files(settings: Settings, work: Path) -> list[dict[str, Any]]:
    """The settings in force (``settings.json``) and the files they name outside the data directory."""
    entries = []
    named: list[Path] = [*settings.trust_roots, *(p for p in (settings.tls_cert, settings.tls_key) if p is not None)]
    for i, path in enumerate(named):
        entries.append(_copy_in(path, work, f"{SETTINGS_FILES}/{i:02d}-{path.name}"))
    values = settings.model_dump(mode="json", exclude={"smtp_password"})  # a secret from the environment stays there
    _write(work / SETTINGS_JSON, json.dumps(values, ensure_ascii=False, indent=1, sort_keys=True).encode())
    entries.append(_entry(work, SETTINGS_JSON))
    return entries


def _write(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    path.chmod(0o600)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- checking and restoring ----------------------------------------------------------------------


def check_backup(src: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is present with its size and SHA-256 and nothing else
    is there; otherwise a ``BackupError`` naming the first file at fault."""
    manifest_path = src / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = manifest["files"]
        assert manifest["format"] == FORMAT and manifest["database"] in ("sqlite", "postgresql")
    except FileNotFoundError:
        raise BackupError(
            f"{src} không phải bản sao lưu: thiếu {MANIFEST}", f"{src} is not a backup: {MANIFEST} is missing", file=str(manifest_path)
        ) from None
    except (ValueError, KeyError, TypeError, AssertionError):
        raise BackupError(
            f"Tệp {manifest_path} bị hỏng hoặc không đúng định dạng", f"{manifest_path} is damaged or not a backup manifest",
            file=str(manifest_path),
        ) from None  # fmt: skip
    listed = set()
    for entry in entries:
        rel = PurePosixPath(entry["path"])
        if rel.is_absolute() or ".." in rel.parts:
            raise BackupError(f"Bản sao lưu có đường dẫn không hợp lệ: {rel}", f"The backup names an unsafe path: {rel}", file=str(rel))
        path = src / rel
        listed.add(path)
        problem = None
        if not path.is_file():
            problem = ("bị thiếu", "is missing")
        elif path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            problem = ("đã bị thay đổi hoặc hỏng (SHA-256 không khớp)", "was changed or damaged (SHA-256 does not match)")
        if problem:
            raise BackupError(
                f"Bản sao lưu bị từ chối: tệp {path} {problem[0]}", f"Backup refused: the file {path} {problem[1]}", file=str(path)
            )
    for path in _files_under(src):
        if path != manifest_path and path not in listed:
            raise BackupError(
                f"Bản sao lưu bị từ chối: tệp {path} không có trong {MANIFEST}",
                f"Backup refused: the file {path} is not listed in {MANIFEST}",
                file=str(path),
            )
    return manifest


def restore(settings: Settings, src: Path) -> RestoreReport:
    """Fill an empty data directory and database from the backup in ``src``."""
    started = time.perf_counter()
    manifest = check_backup(src)
    url = settings.effective_database_url
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if manifest["database"] != kind:
        raise BackupError(
            f"Bản sao lưu là của {manifest['database']}, máy chủ này dùng {kind}; hãy khôi phục vào cùng loại cơ sở dữ liệu",
            f"The backup is of a {manifest['database']} database, this server uses {kind}; restore into the same kind",
        )
    private_umask()
    _refuse_unless_empty(settings, url)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    entries = manifest["files"]
    if kind == "sqlite":
        engine = make_engine(url)
        target = Path(engine.url.database or "")
        engine.dispose()
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(src / DB_SQLITE, partial)
        partial.chmod(0o600)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.rename(target)
    else:
        engine = make_engine(url)
        try:
            _pg_restore(engine, src / DB_POSTGRES)
            rows = json.loads((src / BALLOTS_JSON).read_text(encoding="utf-8"))
            if rows:
                with engine.begin() as conn:
                    conn.execute(t.Base.metadata.tables[BALLOT_BOX].insert(), rows)
        finally:
            engine.dispose()
    for entry in entries:
        rel = entry["path"]
        if not rel.startswith(f"{FILES}/"):
            continue
        target = settings.data_dir / rel[len(FILES) + 1 :]
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(src / rel, target)
        with target.open("rb") as handle:
            os.fsync(handle.fileno())  # "restore complete" means on disk
        target.chmod(int(entry.get("mode", "0o600"), 8) & 0o700 or 0o600)
    secure_tree(settings.data_dir)
    size = sum(e["size"] for e in entries)
    return RestoreReport(len(entries), size, manifest["events"], manifest["head"], time.perf_counter() - started)


def _refuse_unless_empty(settings: Settings, url: str) -> None:
    data_dir = settings.data_dir
    if data_dir.exists():
        if not data_dir.is_dir():
            raise BackupError(f"{data_dir} không phải thư mục", f"{data_dir} is not a directory")
        for entry in sorted(data_dir.iterdir()):
            if entry.name in NOT_DATA or (entry.is_dir() and not _files_under(entry)):
                continue  # models, a cache, folders made by an earlier start with nothing in them
            raise BackupError(
                f"Không khôi phục vào thư mục dữ liệu đã có dữ liệu: {data_dir} có {entry.name}. "
                "Hãy chọn một thư mục dữ liệu trống (data_dir) và một cơ sở dữ liệu trống",
                f"Will not restore into a data directory that holds data: {data_dir} has {entry.name}. "
                "Choose an empty data directory (data_dir) and an empty database",
                data_dir=str(data_dir),
                found=entry.name,
            )
    if url.startswith("sqlite"):
        engine = make_engine(url)
        database = engine.url.database
        engine.dispose()
        if database and Path(database).exists() and Path(database).stat().st_size > 0:
            raise BackupError(
                f"Không khôi phục đè lên cơ sở dữ liệu đã có: {database}",
                f"Will not restore over an existing database: {database}",
                database=database,
            )
        return
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        shown = engine.url.render_as_string()
        raise BackupError(
            f"Không khôi phục vào cơ sở dữ liệu đã có bảng ({', '.join(sorted(tables)[:5])}…): {shown}. Hãy tạo một cơ sở dữ liệu trống",
            f"Will not restore into a database that has tables ({', '.join(sorted(tables)[:5])}…): {shown}. Create an empty database",
            database=shown,
        )


def _pg_restore(engine: Engine, dump: Path) -> None:
    tool = postgres_tool(engine, "pg_restore")
    url, env = _libpq(engine)
    done = subprocess.run(
        [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", f"--dbname={url}", str(dump)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore thất bại: {done.stderr.strip()}", f"pg_restore failed: {done.stderr.strip()}")


# --- the schedule --------------------------------------------------------------------------------

PREFIX = "meeting-room-"


class Backups:
    """The ``backup_schedule`` setting at work: a backup a day at a set local time, the newest N kept."""

    def __init__(self, settings: Settings, store: Store, schedule: BackupSchedule) -> None:
        self.settings, self.store, self.schedule = settings, store, schedule
        self.zone = ZoneInfo(settings.timezone)

    def next_run(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        hour, minute = (int(x) for x in self.schedule.at.split(":"))
        at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if at <= local:
            at += timedelta(days=1)
        return at.astimezone(UTC)

    def run_once(self, now: datetime) -> BackupReport:
        """One backup into ``dir/meeting-room-YYYYMMDD-HHMMSS``, then the oldest beyond ``keep`` removed."""
        stamp = now.astimezone(self.zone).strftime("%Y%m%d-%H%M%S")
        report = backup(self.settings, self.store, self.schedule.dir / f"{PREFIX}{stamp}")
        kept = sorted(p for p in self.schedule.dir.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and (p / MANIFEST).is_file())
        for old in kept[: max(0, len(kept) - self.schedule.keep)]:
            shutil.rmtree(old)
            log.info("old backup %s removed (keep %d)", old, self.schedule.keep)
        return report

    async def run(self) -> None:
        """Forever: wait for the next time, back up off the event loop; a failure is logged, not fatal."""
        import asyncio

        loop = asyncio.get_running_loop()
        while True:
            now = datetime.now(UTC)
            await asyncio.sleep((self.next_run(now) - now).total_seconds())
            try:
                report = await loop.run_in_executor(None, self.run_once, datetime.now(UTC))
                log.info("backup %s: %d files, %.1f MB in %.1f s", report.path, report.files, report.size / 1e6, report.seconds)
            except Exception:
                log.exception("scheduled backup into %s failed", self.schedule.dir)

"""Faults of the machine: a full disk, a database that cannot be written. ``is_disk_full`` recognises
the many shapes of "no space left" (an ``OSError``, SQLite's SQLITE_FULL, PostgreSQL's 53100);
``report`` is what ``/api/health`` says: whether the database reads and writes, and how much of the
data directory's disk is free and whether a file can be written there."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from meeting_room.errors import DiskFullError
from meeting_room.operations.clock import ClockStatus
from meeting_room.operations.metrics import CaptionQueue

LOW_SPACE = 200 * (1 << 20)  # under this the health report warns before writes fail
_PROBE_BYTES = 64 * 1024


def is_disk_full(exc: BaseException | None) -> bool:
    """True when the error (or one it was raised from) means the disk has no room left."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.Error) and (
            getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "database or disk is full" in str(exc)
        ):
            return True
        if getattr(exc, "sqlstate", None) == "53100":  # psycopg: disk_full
            return True
        if isinstance(exc, DBAPIError) and exc.orig is not None and is_disk_full(exc.orig):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def disk_full_error(where: str | None = None) -> DiskFullError:
    _probes.clear()  # a write just failed for lack of space: the next report looks again
    return DiskFullError(
        "Ổ đĩa lưu dữ liệu đã đầy: thao tác chưa được lưu, không có gì bị ghi dở. Hãy báo quản trị viên giải phóng dung lượng rồi thử lại.",
        "The data disk is full: nothing was saved and nothing is half-written. Ask the administrator to free some space, then try again.",
        **({"where": where} if where else {}),
    )


@dataclass(frozen=True)
class DatabaseHealth:
    kind: str
    readable: bool
    writable: bool
    error: str | None


@dataclass(frozen=True)
class DiskHealth:
    path: str
    free_bytes: int | None
    total_bytes: int | None
    writable: bool
    low: bool
    error: str | None


def database_health(engine: Engine) -> DatabaseHealth:
    readable = writable = False
    error = None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM events LIMIT 1")).all()
            readable = True
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_immediate=True)  # takes the write lock: refused when read-only
            with conn.begin() as tx:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT txid_current()"))  # refused on a read-only server
                tx.rollback()
            writable = True
    except Exception as exc:  # noqa: BLE001 - the report says what went wrong instead of failing
        error = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
    return DatabaseHealth(engine.dialect.name, readable, writable, error)


def disk_health(data_dir: Path) -> DiskHealth:
    """Free space of the data directory's disk, and a real write there (written, synced, removed)."""
    free = total = None
    error = None
    writable = False
    try:
        usage = shutil.disk_usage(data_dir)
        free, total = usage.free, usage.total
        probe = data_dir / f".health-{os.getpid()}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"\0" * _PROBE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)
            writable = True
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        error = "disk full" if is_disk_full(exc) else (exc.strerror or str(exc))
    return DiskHealth(str(data_dir.resolve()), free, total, writable, free is not None and free < LOW_SPACE, error)


@dataclass(frozen=True)
class Warning_:
    part: str  # clock, models, devices, captions, transcription, janus
    message: str
    message_en: str


@dataclass(frozen=True)
class Surroundings:
    """What else the report looks at, read from the running server (``Runtime``)."""

    clock: ClockStatus
    models: list[ModelReadiness] = field(default_factory=list)
    devices: list[tuple[str, str, str, str]] = field(default_factory=list)  # (room, kind, device, state)
    transcription_jobs: int = 0
    caption_queues: list[CaptionQueue] = field(default_factory=list)
    janus: str = "not_used"  # the Janus SFU of large online sessions: not_used, starting, running, lost


@dataclass(frozen=True)
class ModelReadiness:
    name: str
    use: str  # transcription, live captions, diarization
    ready: bool
    detail: str


DEVICE_TROUBLE = ("lost",)
CAPTION_BACKLOG_S = 30.0  # captions this far behind real time are no longer live


PROBE_EVERY_S = 1.0  # /api/health is open to anyone: at most one write probe (lock + fsync) a second
_probes: dict[tuple[int, Path], tuple[float, DatabaseHealth, DiskHealth]] = {}
_probe_lock = threading.Lock()


def _probe(engine: Engine, data_dir: Path) -> tuple[DatabaseHealth, DiskHealth]:
    """The database and disk probes, shared by the requests of the same second (a flood of health
    requests must not take the database's write lock and fsync for each). A failing probe is not
    kept: recovery shows at the next request."""
    key = (id(engine), data_dir)
    with _probe_lock:
        seen = _probes.get(key)
        if seen is not None and time.monotonic() - seen[0] < PROBE_EVERY_S:
            return seen[1], seen[2]
        db, disk = database_health(engine), disk_health(data_dir)
        if db.writable and disk.writable:
            _probes[key] = (time.monotonic(), db, disk)
        else:
            _probes.pop(key, None)
        return db, disk


def report(engine: Engine, data_dir: Path, around: Surroundings | None = None) -> tuple[bool, dict[str, Any]]:
    """(everything can read and write, the report). ``status`` is about storing (503 when it cannot);
    ``warnings`` name what else is wrong: the clock, a missing model, a lost device, captions behind."""
    db, disk = _probe(engine, data_dir)
    ok = db.readable and db.writable and disk.writable
    body: dict[str, Any] = {"status": "ok" if ok else "degraded", "database": asdict(db), "disk": asdict(disk)}
    if not disk.writable:
        body["message"] = (
            "Không ghi được vào thư mục dữ liệu (ổ đĩa đầy?)" if disk.error == "disk full" else "Không ghi được vào thư mục dữ liệu"
        )
        body["message_en"] = "Cannot write to the data directory" + (": the disk is full" if disk.error == "disk full" else "")
    elif not (db.readable and db.writable):
        body["message"], body["message_en"] = "Cơ sở dữ liệu không đọc/ghi được", "The database cannot be read or written"
    if around is None:
        return ok, body
    warnings = _warnings(disk, around)
    body.update(
        clock=asdict(around.clock),
        models=[asdict(m) for m in around.models],
        devices=[{"room": r, "kind": k, "name": n, "state": st} for r, k, n, st in around.devices],
        workers={
            "transcription_jobs": around.transcription_jobs,
            "live_caption_passes": len(around.caption_queues),
            "caption_backlog_s": round(max((q.queued_s for q in around.caption_queues), default=0.0), 1),
            "dropped_audio_s": round(sum(q.dropped_s for q in around.caption_queues), 1),
        },
        janus={"state": around.janus},
        warnings=[asdict(w) for w in warnings],
    )
    return ok, body


def _warnings(disk: DiskHealth, around: Surroundings) -> list[Warning_]:
    found = []
    if around.clock.synchronized is False and around.clock.message and around.clock.message_en:
        found.append(Warning_("clock", around.clock.message, around.clock.message_en))
    if disk.low and disk.free_bytes is not None:
        mb = disk.free_bytes // (1 << 20)
        found.append(Warning_("disk", f"Ổ đĩa dữ liệu sắp đầy: còn {mb} MB", f"The data disk is nearly full: {mb} MB free"))
    for m in around.models:
        if not m.ready:
            found.append(
                Warning_(
                    "models", f"Mô hình {m.name} ({m.use}) chưa sẵn sàng: {m.detail}", f"Model {m.name} ({m.use}) is not ready: {m.detail}"
                )
            )
    for room, kind, name, state in around.devices:
        if state in DEVICE_TROUBLE:
            found.append(Warning_("devices", f"Phòng {room}: mất kết nối {kind} “{name}”", f"Room {room}: {kind} “{name}” is lost"))
    for q in around.caption_queues:
        if q.queued_s > CAPTION_BACKLOG_S:
            found.append(Warning_("captions", f"Phòng {q.room}: phụ đề trực tiếp chậm {q.queued_s:.0f} s",
                                  f"Room {q.room}: live captions are {q.queued_s:.0f} s behind"))  # fmt: skip
    return found

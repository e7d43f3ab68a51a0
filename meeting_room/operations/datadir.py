"""The data directory is as secret as the votes: the directory and every folder in it 0700, every file
0600 (a sealed archive's files 0400), created so and put right at start-up when found looser."""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077  # new files 0600, new folders 0700, for this process and what it starts
SPOOL = "tmp"  # under the data directory: uploads on their way in


@dataclass
class PermissionReport:
    """What ``secure_tree`` changed: paths whose mode was looser than owner-only."""

    fixed: list[tuple[Path, int, int]] = field(default_factory=list)  # (path, old mode, new mode)


def private_umask() -> None:
    """From now on this process creates files 0600 and folders 0700 (SQLite's -wal/-shm included)."""
    os.umask(PRIVATE_UMASK)


def spool_uploads_in(data_dir: Path) -> Path:
    """The served process's temporary files go to ``data_dir/tmp``. An upload over 1 MB is spooled by
    Starlette to the temporary folder before the file store copies it in: /tmp is RAM on many systems
    (a tmpfs: a 2 GB recording held in memory, twice for two uploads), and it is outside the owner-only
    tree. Files left there a day ago by a process that died are removed."""
    folder = data_dir / SPOOL
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    stale = time.time() - 86_400
    for leftover in folder.iterdir():
        if leftover.is_file() and leftover.stat().st_mtime < stale:
            leftover.unlink(missing_ok=True)
    tempfile.tempdir = str(folder)
    return folder


def secure_tree(root: Path) -> PermissionReport:
    """Make ``root`` 0700 and take group/other bits off everything under it (symbolic links are
    not followed). Folders become 0700; files keep their owner bits (a read-only archive file stays
    read-only) and lose the rest, so a default 0644 becomes 0600."""
    report = PermissionReport()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    _fix(root, 0o700, report)
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in dirs:
            path = base / name
            if not path.is_symlink():
                _fix(path, 0o700, report)
        for name in files:
            path = base / name
            try:
                mode = path.lstat().st_mode
            except FileNotFoundError:  # removed meanwhile (a -journal, a temporary upload)
                continue
            if stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o077:
                _fix(path, stat.S_IMODE(mode) & 0o700 or 0o600, report)
    for path, old, new in report.fixed:
        log.warning("permissions of %s were %o, now %o (the data directory is private)", path, old, new)
    return report


def secure_sqlite_files(engine: Engine) -> None:
    """A SQLite database outside the data directory is private too (with its -wal and -shm)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return
    report = PermissionReport()
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(database + suffix)
        if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            _fix(path, 0o600, report)
    for path, old, new in report.fixed:
        log.warning("permissions of %s were %o, now %o (the database is private)", path, old, new)


def _fix(path: Path, wanted: int, report: PermissionReport) -> None:
    try:
        old = stat.S_IMODE(path.lstat().st_mode)
    except FileNotFoundError:
        return
    if old != wanted:
        path.chmod(wanted)
        report.fixed.append((path, old, wanted))

"""The data directory is private: 0700, every file 0600, created so and put right at start-up."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from meeting_room.files.documents import DocumentFiles
from meeting_room.operations.datadir import spool_uploads_in
from meeting_room.operations.tls import ensure_tls
from meeting_room.server import ensure_first_admin, open_store
from meeting_room.settings import load_settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _everything(root: Path) -> Iterator[Path]:
    yield root
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(folder) / name


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_files_are_created_private_and_loose_ones_are_put_right(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "var"
    (data / "documents" / "ab").mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    stray = data / "documents" / "ab" / "old.pdf"
    stray.write_bytes(b"%PDF-1.4 old")
    stray.chmod(0o644)
    sealed = data / "archive" / "mt" / "bien-ban.pdf"
    sealed.parent.mkdir(parents=True)
    sealed.write_bytes(b"x")
    sealed.chmod(0o444)  # an archive sealed by an older version: stays read-only, loses the rest
    settings = load_settings(data_dir=data)

    store = open_store(settings)
    ensure_first_admin(store)  # writes: the -wal and -shm exist now
    files = DocumentFiles(settings.documents_dir, 1 << 20)
    stored = files.ingest(io.BytesIO(_tiny_pdf()))
    ensure_tls(settings)

    assert _mode(stray) == 0o600 and _mode(sealed) == 0o400
    names = {p.name for p in _everything(data)}
    assert {"meeting-room.sqlite3", "meeting-room.sqlite3-wal", "meeting-room.sqlite3-shm", "ca.key", "ca.crt", "server.key"} <= names
    assert stored.path.exists()
    for path in _everything(data):
        if path.is_dir():
            assert _mode(path) == 0o700, path
        else:
            assert _mode(path) & 0o077 == 0, (path, oct(_mode(path)))
    store.engine.dispose()


def _tiny_pdf() -> bytes:
    from pypdf import PdfWriter

    out = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(out)
    return out.getvalue()


def test_the_served_process_spools_uploads_inside_the_data_directory(tmp_path: Path) -> None:
    """Starlette spools an upload over 1 MB to the temporary folder: /tmp may be RAM (a 2 GB recording)."""
    import tempfile
    import time

    data = tmp_path / "var"
    (data / "tmp").mkdir(parents=True)
    old, fresh = data / "tmp" / "cu", data / "tmp" / "moi"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (time.time() - 2 * 86_400,) * 2)  # left by a process that died two days ago
    before = tempfile.tempdir
    try:
        folder = spool_uploads_in(data)
        assert folder == data / "tmp" and tempfile.gettempdir() == str(folder) and (folder.stat().st_mode & 0o777) == 0o700
        assert not old.exists() and fresh.exists()  # (a day's grace: another process may be using its own)
        spooled = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # as Starlette's form parser makes them
        spooled.write(bytes(2 << 20))  # over its size: on disk now, in the folder it was given
        assert os.path.dirname(os.readlink(f"/proc/self/fd/{spooled.fileno()}")) == str(folder)
        spooled.close()
    finally:
        tempfile.tempdir = before

"""A full disk, for real: a small tmpfs holds the data directory. Writes answer 507 with a bilingual
message, nothing is half-written, /api/health says it cannot write, and all is well once space returns."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from meeting_room.api.app import create_app
from meeting_room.db import tables as t
from meeting_room.operations.health import is_disk_full
from meeting_room.server import open_store
from meeting_room.settings import load_settings
from tests.conftest import World, login, make_world, snapshot
from tests.meeting_room.api.test_documents import make_pdf

TMPFS_MB = 24


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A TMPFS_MB tmpfs (we run as root, here and in CI)."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m,mode=0700", "tmpfs", str(mountpoint)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {done.stderr.strip() or done.returncode}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(disk: Path) -> Path:
    """Write until the disk refuses; returns the filler file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_is_507_nothing_half_written_and_recovers(small_disk: Path) -> None:
    settings = load_settings(data_dir=small_disk / "var", max_upload_mb=2)
    store = open_store(settings)
    world: World = make_world(store)
    url = f"/api/meetings/{world.meeting_id}"
    with TestClient(create_app(settings, store)) as client:
        sec, chair = login(client, "secretary"), login(client, "chair")
        assert client.get("/api/health").json()["status"] == "ok"
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the next commit must grow the WAL on the full disk
        filler = _fill(small_disk)
        before = snapshot(store)

        pdf = make_pdf(3)
        upload = client.post(
            f"{url}/agenda/{world.item_ids[0]}/documents", files={"file": ("to-trinh.pdf", pdf, "application/pdf")}, headers=sec
        )
        assert upload.status_code == 507, upload.text
        error = upload.json()["error"]
        assert error["code"] == "disk_full" and "đầy" in error["message"] and "disk is full" in error["message_en"]
        change = client.post(f"{url}/transitions", json={"to": "open"}, headers=chair)
        assert change.status_code == 507 and change.json()["error"]["code"] == "disk_full"

        health = client.get("/api/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "degraded" and body["disk"]["writable"] is False and body["disk"]["error"] == "disk full"
        assert "disk is full" in body["message_en"]

        # nothing half-written: no event, no row, no temporary file left behind
        assert snapshot(store) == before
        with store.read() as session:
            assert session.scalar(select(func.count()).select_from(t.Document)) == 0
        leftovers = [p.name for p in settings.data_dir.rglob("*") if p.is_file() and p.name.startswith((".upload-", ".part-", ".health-"))]
        assert leftovers == []

        filler.unlink()  # space returns
        assert client.get("/api/health").json()["status"] == "ok"
        assert client.post(f"{url}/transitions", json={"to": "open"}, headers=chair).status_code == 200
        again = client.post(
            f"{url}/agenda/{world.item_ids[0]}/documents", files={"file": ("to-trinh.pdf", pdf, "application/pdf")}, headers=sec
        )
        assert again.status_code == 201
        assert client.get(f"{url}/documents/{again.json()['id']}/file", headers=sec).content == pdf
        report = store.verify()
        assert report.ok and report.events == before[0] + 2
    store.engine.dispose()


def test_disk_full_is_recognised_in_every_shape() -> None:
    import sqlite3

    assert is_disk_full(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
    assert not is_disk_full(OSError(errno.EACCES, "denied"))
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_disk_full(outer)

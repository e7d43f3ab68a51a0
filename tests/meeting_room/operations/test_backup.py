"""Backup while the server works, restore elsewhere: every event, file and signature verifies; a
tampered backup and a non-empty target are refused with the file named."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from meeting_room import events as ev
from meeting_room.api.app import create_app
from meeting_room.attendance import AttendanceStatus
from meeting_room.cli import main
from meeting_room.db import tables as t
from meeting_room.errors import BackupError
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.lifecycle import MeetingState
from meeting_room.operations.backup import Backups, backup, check_backup
from meeting_room.server import open_store
from meeting_room.services import attendance, meetings, polls
from meeting_room.settings import BackupSchedule, Settings, load_settings
from meeting_room.store import Store
from tests.conftest import TELLER_PASSPHRASE, World, login, make_world
from tests.meeting_room.api.held_meeting import hold_meeting, register_certificate
from tests.meeting_room.api.test_documents import make_pdf
from tests.pki import root_ca
from transcripts.signing import verify_pdf


def _second_database(request: pytest.FixtureRequest, database_url: str | None) -> str | None:
    if database_url is None:
        return None
    cluster = request.getfixturevalue("pg_cluster")
    if isinstance(cluster, str):
        pytest.skip("restoring needs a second, empty database: the throwaway cluster makes one")
    url: str = cluster.new_database()
    return url


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(root_ca().pem)
    return path


def _run(data_dir: Path, url: str | None, *args: str):
    env = {"MEETING_ROOM_DATA_DIR": str(data_dir)}
    if url:
        env["MEETING_ROOM_DATABASE_URL"] = url
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _meeting_in_session(client: TestClient, world: World) -> str:
    """A second meeting, in session, with a document and attendance (the first is signed and sealed)."""
    admin = world.actor("admin")
    meeting_id = meetings.schedule_meeting(
        world.store, admin,
        ev.MeetingScheduled(meeting_id=meetings.new_meeting_id(), body_id=world.body_id, title="Phiên họp bất thường",
                            room_id=world.room_id, starts_at=datetime.now(UTC) + timedelta(hours=1), chair_id=world.ids["chair"],
                            secretary_id=world.ids["secretary"]),
    )  # fmt: skip
    from meeting_room.services import agenda

    item = agenda.add_item(world.store, admin, meeting_id, title="Tờ trình")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, world.actor("chair"), meeting_id, state)
    url = f"/api/meetings/{meeting_id}/agenda/{item}/documents"
    files = {"file": ("to-trinh.pdf", make_pdf(2), "application/pdf")}
    assert client.post(url, files=files, headers=login(client, "secretary")).status_code == 201
    return meeting_id


def _secret_poll_open(client: TestClient, world: World, meeting_id: str) -> str:
    """Three secret ballots in the ballot box of a poll still open."""
    chair = login(client, "chair")
    for who in ("chair", "secretary", "member2"):
        attendance.record(world.store, world.actor("chair"), meeting_id, world.ids[who], AttendanceStatus.PRESENT_IN_ROOM)
    url = f"/api/meetings/{meeting_id}/polls"
    poll = client.post(url, json={"title": "Bầu kín", "rule": {"preset": "majority_present"}, "secrecy": "secret"}, headers=chair)
    poll_id: str = poll.json()["id"]
    assert client.post(f"{url}/{poll_id}/open", json={}, headers=chair).status_code == 200
    for who, choice in (("chair", "yes"), ("secretary", "no"), ("member2", "yes")):
        assert client.post(f"{url}/{poll_id}/ballots", json={"options": [choice]}, headers=login(client, who)).status_code == 201
    return poll_id


def _ballot_box(store: Store) -> list[tuple[str, ...]]:
    """The sealed ballots, their receipt checks and the key shares of open secret polls."""
    with store.read() as session:
        sealed = [
            ("sealed", p, m, s.hex())
            for p, m, s in session.execute(select(t.SealedBallot.poll_id, t.SealedBallot.member_id, t.SealedBallot.sealed))
        ]
        checks = [
            ("check", p, m, c)
            for p, m, c in session.execute(select(t.ReceiptCheck.poll_id, t.ReceiptCheck.member_id, t.ReceiptCheck.check))
        ]
        shares = [
            ("share", p, m, s.hex())
            for p, m, s in session.execute(select(t.PollKeyShare.poll_id, t.PollKeyShare.teller_id, t.PollKeyShare.sealed))
        ]
    return sorted(sealed + checks + shares)


class Writer(threading.Thread):
    """Keeps the meeting busy (attendance changes) while the backup runs."""

    def __init__(self, store: Store, meeting_id: str, member_id: str) -> None:
        super().__init__(daemon=True)
        self.store, self.meeting_id, self.member_id = store, meeting_id, member_id
        self.stop, self.written = threading.Event(), 0

    def run(self) -> None:
        statuses = (AttendanceStatus.PRESENT_IN_ROOM, AttendanceStatus.LEFT)
        while not self.stop.is_set():
            attendance.record(self.store, None, self.meeting_id, self.member_id, statuses[self.written % 2])
            self.written += 1


@pytest.fixture
def source(tmp_path: Path, database_url: str | None, ca: Path) -> Iterator[tuple[Settings, Store]]:
    settings = load_settings(data_dir=tmp_path / "src", database_url=database_url, trust_roots=[ca])
    store = open_store(settings)
    yield settings, store
    store.engine.dispose()


def test_backup_mid_meeting_restores_elsewhere_and_verifies(
    source: tuple[Settings, Store], database_url: str | None, request: pytest.FixtureRequest, tmp_path: Path, ca: Path
) -> None:
    settings, store = source
    world = make_world(store)
    with TestClient(create_app(settings, store)) as client:
        hold_meeting(client, world)
        admin, sec, chair = login(client, "admin"), login(client, "secretary"), login(client, "chair")
        assert register_certificate(client, world, "secretary", "thu-ky", admin).status_code == 201
        assert register_certificate(client, world, "chair", "chu-toa", admin).status_code == 201
        url = f"/api/meetings/{world.meeting_id}/minutes/sign"
        assert client.post(url, json={"passphrase": "thu-ky"}, headers=sec).status_code == 200
        assert client.post(url, json={"passphrase": "chu-toa"}, headers=chair).json()["sealed"]
        live = _meeting_in_session(client, world)
        secret_poll = _secret_poll_open(client, world, live)
        found = client.get("/api/search?q=ngan+sach", headers=login(client, "clerk")).json()
        assert found["total"] >= 1

    writer = Writer(store, live, world.ids["member1"])
    writer.start()
    try:
        while writer.written < 3 and writer.is_alive():  # the backup starts while the meeting is being written to
            writer.join(0.01)
        dest = tmp_path / "backups" / "b1"
        report = backup(settings, store, dest)
    finally:
        writer.stop.set()
        writer.join()
    assert report.events > 40
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in dest.rglob("*") if p.is_file())
    names = {e["path"] for e in check_backup(dest)["files"]}
    assert any(n.startswith("files/documents/") for n in names) and any(n.startswith("files/archive/") for n in names)
    assert any(n.startswith("files/minutes/") for n in names) and any(n.startswith("settings-files/") for n in names)

    target_url = _second_database(request, database_url)
    target = tmp_path / "dst"
    r = _run(target, target_url, "restore", str(dest))
    assert r.exit_code == 0, r.output
    assert "every check passed" in r.output and f"{report.events} events, hash chain intact" in r.output
    assert "sealed archives, every file matches" in r.output

    # the restored record is the source's, event for event, up to the backup's head
    restored = open_store(load_settings(data_dir=target, database_url=target_url))
    try:
        assert [e.hash for e in restored.events()] == [e.hash for e in store.events(limit=report.events)]
        with restored.read() as session:
            signed = session.scalar(select(t.MinutesSignature.pdf_sha256).where(t.MinutesSignature.role == "chair"))
        assert signed is not None
        pdf = MinutesFiles.from_settings(load_settings(data_dir=target)).get_pdf(signed)
        reports = verify_pdf(pdf, [ca.read_bytes()])
        assert len(reports) == 2 and all(r.ok for r in reports)
        with TestClient(create_app(load_settings(data_dir=target, database_url=target_url), restored)) as client:
            # the index came too (asked before the vote below is counted: a counted vote is a document of its own)
            assert client.get("/api/search?q=ngan+sach", headers=login(client, "clerk")).json() == found
        # the ballot box of the open secret poll comes back whole (sealed: no key in the backup), and on
        # the new server the two tellers unlock it with their passphrases and the vote is counted
        assert len([r for r in _ballot_box(store) if r[1] == secret_poll]) == 3 + 3 + 2 and _ballot_box(restored) == _ballot_box(store)
        for teller in ("chair", "secretary"):
            polls.unlock_poll(restored, world.actor(teller), secret_poll, TELLER_PASSPHRASE)
        counted = polls.close_poll(restored, world.actor("chair"), secret_poll).result
        assert [o["votes"] for o in counted["options"]] == [2, 1, 0]
    finally:
        restored.engine.dispose()

    again = _run(target, target_url, "restore", str(dest))
    assert again.exit_code == 2 and "đã có dữ liệu" in again.output and str(target) in again.output


def test_a_tampered_backup_is_refused_naming_the_file(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "src")
    store = open_store(settings)
    world = make_world(store)
    with TestClient(create_app(settings, store)) as client:
        _meeting_in_session(client, world)
    backup(settings, store, tmp_path / "b")
    store.engine.dispose()

    document = next((tmp_path / "b" / "files" / "documents").rglob("*.pdf"))
    content = bytearray(document.read_bytes())
    content[len(content) // 2] ^= 0x01
    document.write_bytes(bytes(content))
    r = _run(tmp_path / "dst", None, "restore", str(tmp_path / "b"))
    assert r.exit_code == 2 and str(document) in r.output and "SHA-256" in r.output
    assert not (tmp_path / "dst").exists()  # nothing written

    document.unlink()
    r = _run(tmp_path / "dst", None, "restore", str(tmp_path / "b"))
    assert r.exit_code == 2 and str(document) in r.output and "bị thiếu" in r.output
    (tmp_path / "b" / "manifest.json").write_text("{", encoding="utf-8")
    r = _run(tmp_path / "dst", None, "restore", str(tmp_path / "b"))
    assert r.exit_code == 2 and "manifest.json" in r.output
    with pytest.raises(BackupError):
        check_backup(tmp_path)


def test_the_schedule_backs_up_daily_and_keeps_the_newest(store: Store, settings: Settings, tmp_path: Path) -> None:
    schedule = BackupSchedule(at="02:30", keep=2, dir=tmp_path / "daily")
    backups = Backups(settings, store, schedule)
    # Asia/Ho_Chi_Minh is UTC+7: 02:30 local is 19:30 UTC the day before
    assert backups.next_run(datetime(2026, 12, 1, 19, 0, tzinfo=UTC)) == datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
    assert backups.next_run(datetime(2026, 12, 1, 19, 30, tzinfo=UTC)) == datetime(2026, 12, 2, 19, 30, tzinfo=UTC)
    for day in range(3):
        backups.run_once(datetime(2026, 12, 1 + day, 19, 30, tzinfo=UTC))
    kept = sorted(p.name for p in schedule.dir.iterdir())
    assert kept == ["meeting-room-20261203-023000", "meeting-room-20261204-023000"]
    assert all(check_backup(schedule.dir / name) for name in kept)


def test_backup_into_a_non_empty_folder_is_refused(store: Store, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BackupError) as err:
        backup(settings, store, tmp_path / "full")
    assert "not empty" in err.value.message_en
    assert os.listdir(tmp_path / "full") == ["x"]
    shutil.rmtree(tmp_path / "full")


def test_the_server_starts_the_schedule_with_it_and_stops_it_cleanly(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "var", backup_schedule={"at": "02:30", "keep": 3, "dir": str(tmp_path / "daily")})
    store = open_store(settings)
    with TestClient(create_app(settings, store)) as client:
        assert client.get("/api/health").status_code == 200
    store.engine.dispose()
    assert isinstance(settings.backup_schedule, BackupSchedule) and settings.backup_schedule.keep == 3


def test_the_settings_in_a_backup_leave_the_smtp_password_out(tmp_path: Path) -> None:
    from meeting_room.operations.backup import SETTINGS_JSON, _settings_files

    settings = load_settings(data_dir=tmp_path / "var", smtp_password="mật-khẩu-thư-điện-tử")
    (tmp_path / "work").mkdir()
    _settings_files(settings, tmp_path / "work")
    written = (tmp_path / "work" / SETTINGS_JSON).read_text(encoding="utf-8")
    assert "smtp_password" not in written and "mật-khẩu" not in written
    assert json.loads(written)["data_dir"] == str(tmp_path / "var")


def test_the_photos_of_a_face_import_under_way_stay_out_of_a_backup(store: Store, settings: Settings, tmp_path: Path) -> None:
    import io
    import sqlite3
    import zipfile

    from meeting_room.services import face_imports, faces

    world = make_world(store)
    faces.set_consent(store, world.actor("admin"), world.ids["member1"], True)
    marker = b"photo-bytes-that-must-not-be-copied" * 10
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("member1/1.jpg", marker)
    import_id = face_imports.create(store, world.actor("admin"), "a.zip", out.getvalue(), max_photo_bytes=1 << 20)
    backup(settings, store, tmp_path / "b")
    copy = tmp_path / "b" / "database.sqlite3"
    assert marker[:30] not in copy.read_bytes()
    db = sqlite3.connect(copy)
    try:
        assert db.execute("SELECT count(*) FROM face_import_archives").fetchone() == (0,)
        state, error = db.execute("SELECT state, error FROM face_imports WHERE id = ?", (import_id,)).fetchone()
    finally:
        db.close()
    assert state == "failed" and "not kept in backups" in error
    assert face_imports.get(store, world.actor("admin"), import_id).state == "queued"  # the live one goes on

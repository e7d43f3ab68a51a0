"""Upgrading a real database of the first release: back up, migrate, same log, same logins; a
broken migration leaves the database exactly as it was; an open meeting stops the upgrade."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from meeting_room import auth
from meeting_room.cli import main
from meeting_room.db import tables as t
from meeting_room.db.engine import MIGRATIONS_DIR
from meeting_room.operations.upgrade import Plan, UpgradeFailedError, UpgradeRefusedError, plan, upgrade
from meeting_room.server import open_store
from meeting_room.settings import Settings

FIXTURE = Path(__file__).with_name("fixtures") / "release-0001.sqlite3.gz"
EVENTS, HEAD = 48, "0d3ea5d05317fb97d8b7aea80c4251e9959f4a5ce5ae42fc30ceb5dfcf392892"
CHAIR_PASSWORD = "ZbqUQXUArUppLQaq"  # fixtures/README.md


@pytest.fixture
def old_release(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "meeting-room.sqlite3").write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return Settings(data_dir=data)


def _db(settings: Settings) -> sqlite3.Connection:
    return sqlite3.connect(settings.data_dir / "meeting-room.sqlite3")


def _revision_and_log(settings: Settings) -> tuple[str, int, str]:
    with _db(settings) as conn:
        (rev,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        count, head = conn.execute("SELECT count(*), (SELECT hash FROM events ORDER BY seq DESC LIMIT 1) FROM events").fetchone()
    return rev, count, head


def test_the_first_releases_database_upgrades_with_its_log_logins_and_meetings(old_release: Settings) -> None:
    assert _revision_and_log(old_release) == ("0001", EVENTS, HEAD)
    report = upgrade(old_release)
    assert report.plan.current == "0001" and report.plan.pending[0] == "0002" and report.plan.pending[-1] == report.plan.head
    assert (report.events, report.head_hash, report.replayed) == (EVENTS, HEAD, EVENTS)
    assert _revision_and_log(old_release) == (report.plan.head, EVENTS, HEAD)

    assert report.backup is not None and report.backup.parent == old_release.data_dir / "upgrade-backups"
    manifest = json.loads((report.backup / "manifest.json").read_text())
    assert (manifest["events"], manifest["head"]) == (EVENTS, HEAD)
    with sqlite3.connect(report.backup / "database.sqlite3") as saved:  # the backup is of the old schema
        assert saved.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)

    store = open_store(old_release)
    assert auth.login(store, "chutich", CHAIR_PASSWORD, hours=1).actor.full_name == "Nguyễn Văn Thành"
    with store.read() as session:
        meeting = session.scalars(select(t.Meeting)).one()
        assert meeting.state == "closed"
        assert len(session.scalars(select(t.Attendance).where(t.Attendance.meeting_id == meeting.id)).all()) == 9
    assert store.verify().ok

    again = upgrade(old_release)  # nothing left to do: no second backup
    assert again.plan.pending == [] and again.backup is None
    assert len(list((old_release.data_dir / "upgrade-backups").iterdir())) == 1


def test_a_broken_migration_leaves_the_old_database_as_it_was(old_release: Settings, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    head = plan_of(old_release).head
    (migrations / "versions" / "9999_broken.py").write_text(
        f'''"""A migration that fails half-way: it has already created a table and changed members."""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("nickname", sa.String(50)))
    op.execute("UPDATE members SET full_name = 'ĐÃ ĐỔI'")
    raise RuntimeError("the new release's migration 9999 is broken")


def downgrade() -> None:
    pass
'''
    )
    before = (old_release.data_dir / "meeting-room.sqlite3").read_bytes()
    with pytest.raises(UpgradeFailedError) as failed:
        upgrade(old_release, migrations_dir=migrations)
    assert "9999 is broken" in failed.value.message_en and "0001" in failed.value.message_vi
    assert _revision_and_log(old_release) == ("0001", EVENTS, HEAD)
    with _db(old_release) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        names = {r[0] for r in conn.execute("SELECT full_name FROM members")}
        columns = {r[1] for r in conn.execute("PRAGMA table_info(members)")}
    assert "half_done" not in tables and "polls" not in tables and "nickname" not in columns
    assert "ĐÃ ĐỔI" not in names and len(names) == 10
    with _db(old_release) as conn:  # the same rows, page for page where it matters: a dump is identical
        after_dump = "\n".join(conn.iterdump())
    (tmp_path / "before.sqlite3").write_bytes(before)
    with sqlite3.connect(tmp_path / "before.sqlite3") as copy:
        assert "\n".join(copy.iterdump()) == after_dump


def plan_of(settings: Settings) -> Plan:
    from meeting_room.db import make_engine

    engine = make_engine(settings.effective_database_url)
    try:
        return plan(engine)
    finally:
        engine.dispose()


def test_an_open_meeting_stops_the_upgrade_before_anything_is_touched(old_release: Settings) -> None:
    with _db(old_release) as conn:
        conn.execute("UPDATE meetings SET state = 'in_session'")
        (title,) = conn.execute("SELECT title FROM meetings").fetchone()
    with pytest.raises(UpgradeRefusedError) as refused:
        upgrade(old_release)
    assert f"“{title}”" in refused.value.message_vi and f"“{title}”" in refused.value.message_en
    assert _revision_and_log(old_release)[0] == "0001"
    assert not (old_release.data_dir / "upgrade-backups").exists()

    env = {"MEETING_ROOM_DATA_DIR": str(old_release.data_dir)}
    check = CliRunner().invoke(main, ["upgrade", "--check"], env=env)
    assert check.exit_code == 3 and "0002" in check.output
    refused_cli = CliRunner().invoke(main, ["upgrade"], env=env)
    assert refused_cli.exit_code == 3 and "--force" in refused_cli.output
    forced = CliRunner().invoke(main, ["upgrade", "--force"], env=env)
    assert forced.exit_code == 0, forced.output
    assert "0001 -> " in forced.output and f"{EVENTS} sự kiện" in forced.output
    assert CliRunner().invoke(main, ["verify"], env=env).exit_code == 0

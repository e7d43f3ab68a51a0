"""scripts/upgrade.sh as an operator runs it, from a new release's folder beside the running one:
an open meeting stops it with nothing changed; otherwise the database of the first release is
upgraded (backup first) and ``current`` points at the new release. systemd does not run here, so
the script says it leaves the service alone (the stop/start lines are not exercised)."""

from __future__ import annotations

import gzip
import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/meeting_room/operations/fixtures/release-0001.sqlite3.gz"


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """/opt/meeting-room as scripts/install-service.sh lays it out, in tmp_path: the running release
    (an old folder) as ``current``, the new one (this checkout) beside it, the first release's data."""
    if not (ROOT / ".venv" / "bin" / "meeting-room").exists():
        pytest.skip("scripts/upgrade.sh installs into the checkout's .venv; this checkout has none (a worktree)")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    if not list((ROOT / ".venv").glob(f".installed-{digest}-*")):
        # the script would reinstall the project into this .venv through the test's temporary path;
        # scripts/test.sh (and so CI) has just installed it for this pyproject.toml
        pytest.skip("the .venv is not installed for this pyproject.toml: run scripts/test.sh")
    base = tmp_path / "opt"
    (base / "releases" / "old").mkdir(parents=True)
    (base / "releases" / "new").symlink_to(ROOT)
    (base / "current").symlink_to(base / "releases" / "old")
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "meeting-room.sqlite3").write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    config = tmp_path / "settings.toml"
    config.write_text(f'data_dir = "{data}"\n')
    env = {**os.environ, "MEETING_ROOM_BASE": str(base), "MEETING_ROOM_CONFIG": str(config), "MEETING_ROOM_USER": "no-such-user-here"}
    env.pop("MEETING_ROOM_DATA_DIR", None)
    return base, env


def _run(base: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    script = base / "releases" / "new" / "scripts" / "upgrade.sh"
    return subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=600, check=False)


def _revision(base: Path, env: dict[str, str]) -> str:
    data = Path(env["MEETING_ROOM_CONFIG"]).with_name("data")
    with sqlite3.connect(data / "meeting-room.sqlite3") as conn:
        (rev,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(rev)


def test_an_open_meeting_stops_the_script_with_nothing_changed(installed: tuple[Path, dict[str, str]]) -> None:
    base, env = installed
    data = Path(env["MEETING_ROOM_CONFIG"]).with_name("data")
    with sqlite3.connect(data / "meeting-room.sqlite3") as conn:
        conn.execute("UPDATE meetings SET state = 'in_session'")
    done = _run(base, env)
    assert done.returncode != 0 and "a meeting is in progress" in done.stderr, done.stdout + done.stderr
    assert _revision(base, env) == "0001" and (base / "current").resolve() == base / "releases" / "old"


def test_the_script_upgrades_and_switches_to_the_new_release(installed: tuple[Path, dict[str, str]]) -> None:
    base, env = installed
    done = _run(base, env)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "0001 -> " in out and "48 sự kiện" in out and "systemd does not run" in out and "upgrade complete" in out
    assert _revision(base, env) != "0001"
    assert os.readlink(base / "current") == str(base / "releases" / "new")
    backups = list((Path(env["MEETING_ROOM_CONFIG"]).with_name("data") / "upgrade-backups").iterdir())
    assert len(backups) == 1 and (backups[0] / "manifest.json").is_file()

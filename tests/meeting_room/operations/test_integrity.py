"""A damaged database stops start-up and ``verify`` with one readable message naming the file and
what to do, never a traceback; start-up re-checks the newest links of the hash chain."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from meeting_room.cli import main
from meeting_room.operations.integrity import check_chain_tail, check_files
from meeting_room.server import open_store
from meeting_room.settings import load_settings
from tests.conftest import make_world


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database(tmp_path: Path) -> Path:
    store = open_store(load_settings(data_dir=tmp_path / "var"))
    make_world(store)
    store.engine.dispose()  # the last connection checkpoints the WAL into the file
    path = tmp_path / "var" / "meeting-room.sqlite3"
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


def _flip_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0:16] = bytes(b ^ 0xFF for b in data[0:16])
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _damage_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for n in range(2, len(data) // page):  # every b-tree page header but the first page's
        data[n * page : n * page + 8] = b"\xfe" * 8
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_flip_header, _truncate, _damage_pages], ids=["header", "truncated", "pages"])
@pytest.mark.parametrize("command", [["verify"], ["migrate"], ["serve", "--port", "PORT"], ["rebuild"]], ids=lambda c: c[0])
def test_a_damaged_database_is_one_message_not_a_traceback(database: Path, damage: Callable[[Path], None], command: list[str]) -> None:
    damage(database)
    args = [str(_free_port()) if a == "PORT" else a for a in command]
    env = {"MEETING_ROOM_DATA_DIR": str(database.parent), "MEETING_ROOM_HTTPS": "false"}
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)  # a traceback would raise here
    assert result.exit_code == 2, result.output
    assert str(database) in result.output and "bị hỏng" in result.output and "restore" in result.output
    assert "Traceback" not in result.output


def test_start_up_checks_the_tail_of_the_chain(database: Path) -> None:
    with sqlite3.connect(database) as db:
        (head,) = db.execute("SELECT max(seq) FROM events").fetchone()
        db.execute("UPDATE events SET payload = replace(payload, 'Phòng họp A', 'Phòng họp B') WHERE type = 'room.created'")
    result = CliRunner().invoke(main, ["migrate"], env={"MEETING_ROOM_DATA_DIR": str(database.parent)}, catch_exceptions=False)
    assert result.exit_code == 2 and "was changed" in result.output and str(database) in result.output
    verify = CliRunner().invoke(main, ["verify"], env={"MEETING_ROOM_DATA_DIR": str(database.parent)}, catch_exceptions=False)
    assert verify.exit_code == 1 and "BROKEN at event" in verify.output  # verify walks the whole chain and says where
    assert head > 5


def test_the_tail_check_reads_only_the_tail(tmp_path: Path) -> None:
    store = open_store(load_settings(data_dir=tmp_path / "var"))
    make_world(store)
    assert check_chain_tail(store.engine, 5) == 5
    assert check_chain_tail(store.engine, 10_000) == store.head_seq()
    assert check_files(store.engine, load_settings(data_dir=tmp_path / "var")).ok
    store.engine.dispose()

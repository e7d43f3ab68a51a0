"""A room server's SQLite moved into an empty PostgreSQL: the same log, logins, records, search and
recount there; a database with data, a meeting in progress and an old schema are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from meeting_room import auth
from meeting_room.api.app import create_app
from meeting_room.cli import main
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError
from meeting_room.lifecycle import MeetingState
from meeting_room.operations.move import MoveError, move_database
from meeting_room.server import open_store
from meeting_room.services import meetings
from meeting_room.settings import Settings, load_settings
from meeting_room.store import Store
from tests.conftest import PASSWORD, World, login
from tests.meeting_room.api.held_meeting import hold_meeting
from tests.pgcluster import ThrowawayCluster


def _empty_postgres(pg_cluster: ThrowawayCluster | str) -> str:
    if isinstance(pg_cluster, str):
        pytest.skip("the move needs an empty database: the throwaway cluster makes one")
    url: str = pg_cluster.new_database()
    return url


def _rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    with store.read() as session:
        return {
            "meetings": sorted(tuple(r) for r in session.execute(select(t.Meeting.id, t.Meeting.state, t.Meeting.title))),
            "polls": sorted((p.id, p.state, json.dumps(p.result, sort_keys=True)) for p in session.scalars(select(t.Poll))),
            "credentials": sorted(tuple(r) for r in session.execute(select(t.Credential.member_id, t.Credential.password_hash))),
        }


def test_sqlite_moves_into_postgres_with_everything_checked(
    settings: Settings, store: Store, world: World, pg_cluster: ThrowawayCluster | str, tmp_path: Path
) -> None:
    target = _empty_postgres(pg_cluster)
    with TestClient(create_app(settings, store)) as client:
        hold_meeting(client, world)
        found = client.get("/api/search?q=ngan+sach", headers=login(client, "clerk")).json()
    assert found["total"] >= 1
    env = {"MEETING_ROOM_DATA_DIR": str(settings.data_dir)}
    out = CliRunner().invoke(main, ["move-database", "-"], input=target + "\n", env=env)  # the password never on a command line
    assert out.exit_code == 0, out.output
    password = make_url(target).password
    assert "now set: database_url" in out.output and (not password or str(password) not in out.output)
    report = move_database(settings, _empty_postgres(pg_cluster))  # once more into another, for the figures
    head = store.verify()
    assert (report.events, report.head) == (head.events, head.head) and report.replayed == head.events
    assert report.tables["credentials"] >= 8 and report.polls_recounted >= 1

    moved = open_store(load_settings(data_dir=settings.data_dir, database_url=target))
    try:
        assert [e.hash for e in moved.events()] == [e.hash for e in store.events()]
        assert _rows(moved) == _rows(store)
        assert auth.login(moved, "chair", PASSWORD, hours=1).actor.member_id == world.ids["chair"]
        with TestClient(create_app(load_settings(data_dir=settings.data_dir, database_url=target), moved)) as client:
            there = client.get("/api/search?q=ngan+sach", headers=login(client, "clerk")).json()

        def unscored(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:  # each engine ranks its own way: the same hits
            return sorted(({k: v for k, v in hit.items() if k != "score"} for hit in hits), key=lambda hit: json.dumps(hit, sort_keys=True))

        assert unscored(there["hits"]) == unscored(found["hits"]) and there["total"] == found["total"]
    finally:
        moved.engine.dispose()

    with pytest.raises(MoveError) as again:  # never into a database that holds data
        move_database(settings, target)
    assert "already holds data" in again.value.message_en and "events" in again.value.message_en


def test_a_meeting_in_progress_or_an_old_schema_is_refused(settings: Settings, store: Store, world: World, tmp_path: Path) -> None:
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(store, world.actor("chair"), world.meeting_id, state)
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    with pytest.raises(ConflictError) as refused:
        move_database(settings, target)
    assert "Phiên họp thường kỳ tháng 11" in refused.value.message_vi

    env = {"MEETING_ROOM_DATA_DIR": str(settings.data_dir)}
    out = CliRunner().invoke(main, ["move-database", "mysql://x@y/z"], env=env)
    assert out.exit_code == 2 and "postgresql+psycopg://" in out.output  # what is accepted

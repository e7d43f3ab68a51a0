"""Events committed by another process (the CLI, a room process, another worker) reach live
subscribers at once: SQLite through an abstract datagram socket, PostgreSQL through LISTEN/NOTIFY."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from meeting_room import events as ev
from meeting_room.api import create_app
from meeting_room.auth import actor_of
from meeting_room.db import tables as t
from meeting_room.server import ensure_first_admin, open_store
from meeting_room.services import agenda, bodies, meetings
from meeting_room.settings import load_settings

WRITER = """
import sys
from meeting_room.cli import _operator
from meeting_room.server import open_store
from meeting_room.services import agenda
from meeting_room.settings import load_settings

store = open_store(load_settings(data_dir=sys.argv[1], database_url=sys.argv[2] or None))
for title in sys.argv[4:]:
    agenda.add_item(store, _operator(store), sys.argv[3], title=title)
"""


def test_another_process_writes_and_the_subscriber_sees_it_live(tmp_path: Path, database_url: str | None) -> None:
    settings = load_settings(data_dir=tmp_path / "var", database_url=database_url)
    store = open_store(settings)
    first = ensure_first_admin(store)
    assert first is not None
    with store.read() as session:
        admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
    body_id = bodies.create_body(store, admin, name="Sở Nội vụ", short_name="SNV")
    meeting_id = meetings.schedule_meeting(
        store,
        admin,
        ev.MeetingScheduled(
            meeting_id=meetings.new_meeting_id(), body_id=body_id, title="Giao ban", starts_at=datetime.now(UTC) + timedelta(days=1)
        ),
    )
    with TestClient(create_app(settings, store)) as client, ThreadPoolExecutor(1) as pool:
        token = client.post("/api/auth/login", json={"username": "admin", "password": first.password}).json()["token"]
        with client.websocket_connect(f"/api/meetings/{meeting_id}/stream?token={token}") as ws:
            while ws.receive_json()["kind"] != "ready":
                pass
            titles = ["Mục từ tiến trình khác", "Mục thứ hai"]
            writer = [sys.executable, "-c", WRITER, str(tmp_path / "var"), database_url or "", meeting_id, *titles]
            subprocess.run(writer, check=True, timeout=60)
            # Nothing else happens in this process: only the notification can bring these.
            received = [pool.submit(ws.receive_json).result(timeout=15)["event"] for _ in range(2)]
            agenda.add_item(store, admin, meeting_id, title="Mục của máy chủ")
            received.append(pool.submit(ws.receive_json).result(timeout=15)["event"])
    assert [e["data"]["title"] for e in received] == ["Mục từ tiến trình khác", "Mục thứ hai", "Mục của máy chủ"]
    assert [e["id"] for e in received] == sorted(e["id"] for e in received)
    store.engine.dispose()

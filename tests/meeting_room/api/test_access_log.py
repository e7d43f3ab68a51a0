"""The real server's request log (uvicorn's access and handshake lines) never holds a session token:
not an invitation link's, not a WebSocket's ``?token=``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import uvicorn
from websockets.sync.client import connect

from meeting_room.api import create_app
from meeting_room.api.access_log import LOGGERS, redact
from meeting_room.server import open_store
from tests.conftest import PASSWORD, _settings, make_world
from tests.meeting_room.call_server import _free_port, _h, wait_for


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[str, str, list[str], object]]:
    store = open_store(_settings(tmp_path))
    world = make_world(store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(_settings(tmp_path), store), host="127.0.0.1", port=port, log_level="info"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for("the server", lambda: server.started, 30)
    lines = Lines()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(lines)
    try:
        yield f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", lines.lines, world
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(lines)
        server.should_exit = True
        thread.join(timeout=30)
        store.engine.dispose()


def test_no_token_reaches_the_access_log(logged) -> None:
    base, ws_base, lines, world = logged
    mid = world.meeting_id
    with httpx.Client(base_url=base, timeout=30) as c:
        token = c.post("/api/auth/login", json={"username": "chair", "password": PASSWORD}).json()["token"]
        c.cookies.clear()
        link = c.post(f"/api/meetings/{mid}/invitations", json={"member_id": world.ids["member2"]}, headers=_h(token)).json()
        invitation = link["url"].rsplit("/", 1)[1]
        assert c.post(f"/join/{invitation}", follow_redirects=False).status_code == 303
        c.cookies.clear()
        assert c.get(f"/api/meetings/{mid}?token={token}").status_code == 401  # not taken over HTTP, and not logged
    with connect(f"{ws_base}/api/meetings/{mid}/stream?after=0&token={token}") as ws:
        assert '"kind"' in ws.recv(timeout=10)

    def seen() -> bool:
        text = "\n".join(lines)
        return "/join/" in text and "WebSocket" in text and "?token=" in text

    wait_for("the request lines", seen, 10)
    text = "\n".join(lines)
    assert token not in text and invitation not in text, text
    assert "/join/[redacted]" in text and f"/api/meetings/{mid}/stream?after=0&token=[redacted]" in text


def test_redaction_keeps_the_rest_of_the_line() -> None:
    line = '127.0.0.1:5 - "GET /join/abc-DEF_123?x=1&token=s3cr3t&after=4 HTTP/1.1" 303'
    assert redact(line) == '127.0.0.1:5 - "GET /join/[redacted]?x=1&token=[redacted]&after=4 HTTP/1.1" 303'

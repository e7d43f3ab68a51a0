"""The real server as a newcomer starts it: `meeting-room serve` in its own process, real HTTP,
a real WebSocket client, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.meeting_room.api.test_documents import make_pdf


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        self.port = _free_port()
        self.base = f"https://127.0.0.1:{self.port}"  # HTTPS is the default: browsers need it for microphones
        self.tls = ssl.create_default_context(cafile=None)
        self.ca = data_dir / "tls" / "ca.crt"
        env = {**os.environ, "MEETING_ROOM_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        if database_url:
            env["MEETING_ROOM_DATABASE_URL"] = database_url
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "meeting_room", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                if self.ca.is_file():  # trust the local CA the server made, as a member's tablet would
                    self.tls = ssl.create_default_context(cafile=str(self.ca))
                if httpx.get(f"{self.base}/api/health", timeout=1, verify=self.tls).status_code == 200:
                    return
            except (httpx.TransportError, ssl.SSLError):
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def client(self, timeout: float = 10) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=timeout, verify=self.tls)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)

    def crash(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; only what was committed survives."""
        self.proc.kill()
        self.proc.wait(timeout=20)


@pytest.fixture
def server(tmp_path: Path, database_url: str | None) -> Iterator[Server]:
    s = Server(tmp_path / "var", database_url)
    yield s
    s.stop()


def test_first_start_a_meeting_and_its_live_stream(server: Server, tmp_path: Path, database_url: str | None) -> None:
    out = server.output()
    password = re.search(r"mật khẩu / password:\s+(\S+)", out)
    assert password, out
    assert "https://127.0.0.1" in out and "tls/ca.crt" in out and "SHA-256" in out, out
    with server.client() as c:
        home = c.get("/")
        assert home.status_code == 200 and "Phòng họp thông minh" in home.text
        assert c.get("/docs").status_code == 200
        assert c.get("/api/meetings").status_code == 401
        ca = c.get("/tls/ca.crt")  # what a member downloads to trust the server
        assert ca.status_code == 200 and ca.content == server.ca.read_bytes()
    with pytest.raises(httpx.ConnectError):  # a device that has not installed the CA is warned, not fooled
        httpx.get(server.base + "/api/health")

    with server.client() as c:
        r = c.post("/api/auth/login", json={"username": "admin", "password": password.group(1)})
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        body = c.post("/api/bodies", json={"name": "UBND huyện Thử", "short_name": "UBND"}, headers=h).json()
        meeting = c.post(
            "/api/meetings",
            json={"body_id": body["id"], "title": "Giao ban tuần", "starts_at": "2026-12-01T08:00:00+07:00"},
            headers=h,
        ).json()
        item = c.post(f"/api/meetings/{meeting['id']}/agenda", json={"title": "Báo cáo tuần"}, headers=h).json()[0]
        with connect(f"wss://127.0.0.1:{server.port}/api/meetings/{meeting['id']}/stream", additional_headers=h, ssl=server.tls) as ws:
            backlog = []
            while (msg := json.loads(ws.recv(timeout=10)))["kind"] != "ready":
                backlog.append(msg["event"]["type"])
            assert backlog == ["meeting.scheduled", "agenda.item_added"]
            c.post(
                f"/api/meetings/{meeting['id']}/agenda/{item['id']}/documents",
                files={"file": ("bao-cao.pdf", make_pdf(1), "application/pdf")},
                headers=h,
            ).raise_for_status()
            # Six taps on "open" at once, each its own connection: one wins, five get 409.
            barrier = threading.Barrier(6)

            def tap() -> int:
                with server.client(timeout=20) as own:
                    barrier.wait()
                    return own.post(f"/api/meetings/{meeting['id']}/transitions", json={"to": "open"}, headers=h).status_code

            with ThreadPoolExecutor(6) as pool:
                codes = sorted(pool.map(lambda _: tap(), range(6)))
            assert codes == [200, 409, 409, 409, 409, 409]
            live = [json.loads(ws.recv(timeout=10))["event"] for _ in range(2)]
            assert [e["type"] for e in live] == ["document.attached", "meeting.state_changed"]
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.5)  # exactly one state change was committed and pushed

        acknowledged = c.get(f"/api/meetings/{meeting['id']}/events", headers=h).json()["last_event_id"]

    # Crash right after the acknowledged writes. The restart creates no second admin and prints no
    # password; everything acknowledged is there and the chain is intact.
    server.crash()
    again = Server(tmp_path / "var", database_url)
    try:
        assert "mật khẩu / password" not in again.output()
        with again.client() as c:
            assert c.get("/api/auth/me", headers=h).status_code == 200  # the session survived the restart
            assert c.get(f"/api/meetings/{meeting['id']}", headers=h).json()["state"] == "open"
            assert c.get(f"/api/meetings/{meeting['id']}/events", headers=h).json()["last_event_id"] == acknowledged
    finally:
        again.stop()
    env = {**os.environ, "MEETING_ROOM_DATA_DIR": str(tmp_path / "var")}
    if database_url:
        env["MEETING_ROOM_DATABASE_URL"] = database_url
    verify = subprocess.run([sys.executable, "-m", "meeting_room", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0 and "hash chain intact" in verify.stdout


def test_over_https_sockets_check_the_origin_and_tokens_stay_out_of_the_log(server: Server) -> None:
    password = re.search(r"mật khẩu / password:\s+(\S+)", server.output())
    assert password
    with server.client() as c:
        token = c.post("/api/auth/login", json={"username": "admin", "password": password.group(1)}).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        body = c.post("/api/bodies", json={"name": "UBND huyện Thử", "short_name": "UBND"}, headers=h).json()
        meeting = c.post(
            "/api/meetings", json={"body_id": body["id"], "title": "Giao ban", "starts_at": "2026-12-01T08:00:00+07:00"}, headers=h
        )
        url = f"wss://127.0.0.1:{server.port}/api/meetings/{meeting.json()['id']}/stream?token={token}"
    # a minute for the handshake: once timed out, the client library waits for its reader thread, which
    # a TLS socket may not wake for many minutes (a CI run on a busy machine hung 14 minutes there)
    with connect(url, ssl=server.tls, origin=Origin(f"https://127.0.0.1:{server.port}"), open_timeout=60) as ws:  # the page's own origin
        assert json.loads(ws.recv(timeout=10))["kind"] == "event"
    with connect(url, ssl=server.tls, origin=Origin(f"http://127.0.0.1:{server.port}"), open_timeout=60) as ws:  # same host and port, http
        assert json.loads(ws.recv(timeout=10))["error"]["code"] == "permission_denied"
    deadline = time.monotonic() + 10
    while "token=[redacted]" not in server.output():
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.1)
    assert token not in server.output()

"""A server for call tests: uvicorn on loopback running a room whose microphone is a 1 kHz tone
(a file replayed as the room's input), with the meeting open and everyone's session token."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import uvicorn

from meeting_room.api import create_app
from meeting_room.server import open_store
from speech.models import ModelStore
from tests.conftest import PASSWORD, _settings, make_world
from tests.speech_audio import tone, write_wav

ROOM_HZ = 1000.0

T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(what: str, cond: Callable[[], T], seconds: float = 60.0) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := cond():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def serve_call(tmp: Path, model_store: ModelStore, **extra: Any) -> Iterator[dict[str, Any]]:
    wav = write_wav(tmp / "room.wav", tone(2.0, ROOM_HZ, rate=48000, level=0.3), rate=48000)
    room = tmp / "room.toml"
    room.write_text(
        f'room = "Phòng họp A"\n[[microphones]]\nname = "ban-hop"\nfile = "{wav}"\nloop = true\nchannels = 1\n', encoding="utf-8"
    )
    extra = {"call_grace_s": 1.5, **extra}
    settings = _settings(tmp, models_dir=model_store.root, rooms=[room], call_loopback=True, asr_temperature_fallback=False, **extra)
    store = open_store(settings)
    world = make_world(store)
    app = create_app(settings, store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for("the server", lambda: server.started, 30)
    base = f"http://127.0.0.1:{port}"
    tokens = {}
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            for who in ("chair", "member1", "member2", "outsider"):
                tokens[who] = c.post("/api/auth/login", json={"username": who, "password": PASSWORD}).json()["token"]
            for target in ("open", "in_session"):
                r = c.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": target}, headers=_h(tokens["chair"]))
                assert r.status_code == 200, r.text
        wait_for("the room to go live", lambda: app.state.runtime.rooms[0].live_meeting == world.meeting_id, 30)
        yield {
            "base": base,
            "ws": f"ws://127.0.0.1:{port}/api/meetings/{world.meeting_id}/call",
            "world": world,
            "tokens": tokens,
            "app": app,
        }
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        store.engine.dispose()

"""The runtime on a real data directory and SQLite store, with a room whose microphone replays a file
(looped, so it runs until stopped): it starts the room and its watchers, stops everything it
started (no thread or task of its own left), a second stop does nothing, and the app built over it
holds exactly that runtime and nothing else, and serves from it."""

from __future__ import annotations

import asyncio
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from meeting_room.api import create_app, create_app_for
from meeting_room.live.runtime import Runtime
from meeting_room.server import open_store
from meeting_room.settings import Settings
from meeting_room.store import Store
from tests.conftest import World, _settings, login, make_world


def _tone(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    samples = (0.1 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def _wait(what: str, cond: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def room(tmp_path: Path) -> Iterator[tuple[Settings, Store, World]]:
    config = tmp_path / "room.toml"
    config.write_text(
        f'room = "Phòng họp A"\n\n[[microphones]]\nname = "ban-hop"\nfile = "{_tone(tmp_path / "tone.wav")}"\nloop = true\n',
        encoding="utf-8",
    )
    settings = _settings(tmp_path, rooms=[config])
    store = open_store(settings)
    world = make_world(store)  # has the room “Phòng họp A”
    yield settings, store, world
    store.engine.dispose()


def _ours(before: set[threading.Thread]) -> list[str]:
    """Threads started since ``before`` (the event loop's own executor aside: it ends with the loop)."""
    return sorted(th.name for th in threading.enumerate() if th not in before and th.is_alive() and not th.name.startswith("asyncio_"))


def test_a_runtime_starts_its_work_and_a_stop_ends_all_of_it(room: tuple[Settings, Store, World]) -> None:
    settings, store, _world = room
    before = set(threading.enumerate())
    runtime = Runtime.build(settings, store)
    assert [r.room_name for r in runtime.rooms] == ["Phòng họp A"]
    assert _ours(before) == []  # built, nothing started

    async def run() -> None:
        await runtime.start()
        running = await asyncio.to_thread(_ours, before)
        assert "room-supervisor" in running and "room-dispatch-ban-hop" in running and "mic-ban-hop" in running
        assert len(asyncio.all_tasks()) > 1  # the watchers, the bus listener, the poll timer
        await asyncio.to_thread(_wait, "the microphone to deliver", lambda: runtime.rooms[0].status()[0].state == "connected")
        await runtime.start()  # a second server of the same app: nothing more is started ...
        assert await asyncio.to_thread(_ours, before) == running
        await runtime.stop()  # ... and its stop leaves the first one's work running
        assert len(asyncio.all_tasks()) > 1 and runtime.rooms[0].status()[0].state == "connected"
        await runtime.stop()
        assert asyncio.all_tasks() == {asyncio.current_task()}  # every task it started has ended
        assert [s.state for s in runtime.rooms[0].status()] == ["stopped"]
        await runtime.stop()  # harmless

    asyncio.run(run())
    _wait("the runtime's threads to end", lambda: _ours(before) == [], 10)


def test_the_app_holds_exactly_the_runtime_it_serves(room: tuple[Settings, Store, World]) -> None:
    settings, store, world = room
    runtime = Runtime.build(settings, store)
    app = create_app_for(runtime)
    assert app.state._state == {"runtime": runtime}  # one state, typed
    with TestClient(app) as client:
        devices = client.get(f"/api/rooms/{world.room_id}/devices", headers=login(client, "chair")).json()
        assert devices["run_here"] and [d["name"] for d in devices["devices"]] == ["ban-hop"]  # the runtime's room
    assert [s.state for s in runtime.rooms[0].status()] == ["stopped"]  # the lifespan stopped it

    built = create_app(settings, store).state.runtime
    assert isinstance(built, Runtime) and built.settings is settings and built.store is store

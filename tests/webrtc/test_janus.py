"""Janus's configuration as the server writes it (no janus program needed), and one publisher and
one subscriber through a real Janus started here (skipped without Debian's janus, failed in CI)."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from websockets.typing import Subprotocol

from tests import needs
from webrtc.client import ArrayAudioTrack
from webrtc.ice import parse_ice_servers, rtc_configuration
from webrtc.janus import (
    JanusAdmin,
    JanusError,
    JanusOptions,
    JanusProcess,
    JanusSecrets,
    JanusSession,
    JanusSocket,
    Publisher,
    Subscriber,
    VideoRoom,
    free_port,
    write_config,
)
from webrtc.mixer import RATE
from webrtc.tracks import read_audio


def test_the_configuration_is_private_on_loopback_and_names_only_the_configured_ice_servers(tmp_path: Path) -> None:
    keys = JanusSecrets.load_or_create(tmp_path / "keys" / "secrets.json")
    assert JanusSecrets.load_or_create(tmp_path / "keys" / "secrets.json") == keys  # generated once, then kept
    assert stat.S_IMODE(os.stat(tmp_path / "keys" / "secrets.json").st_mode) == 0o600
    bare = write_config(tmp_path / "bare", JanusOptions(), keys)
    core = (bare / "janus.jcfg").read_text()
    assert "stun_server" not in core and "turn_server" not in core and "token_auth = true" in core
    assert keys.api_secret in core and keys.admin_secret in core
    ws = (bare / "janus.transport.websockets.jcfg").read_text()
    assert 'ws_ip = "127.0.0.1"' in ws and 'admin_ws_ip = "127.0.0.1"' in ws and "wss = false" in ws
    assert all(stat.S_IMODE(os.stat(f).st_mode) == 0o600 for f in bare.iterdir())
    servers = parse_ice_servers(["stun:10.0.0.5:3478", {"urls": "turn:10.0.0.5:3479?transport=tcp", "username": "u", "credential": "p"}])
    core = (write_config(tmp_path / "ice", JanusOptions(ice_servers=servers), keys) / "janus.jcfg").read_text()
    assert 'stun_server = "10.0.0.5"' in core and "stun_port = 3478" in core
    assert 'turn_server = "10.0.0.5"' in core and "turn_port = 3479" in core and 'turn_type = "tcp"' in core and 'turn_pwd = "p"' in core


@pytest.fixture(scope="module")
def janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JanusOptions, JanusSecrets]]:
    needs.janus()
    folder = tmp_path_factory.mktemp("janus")
    keys = JanusSecrets.load_or_create(folder / "secrets.json")
    options = JanusOptions(ws_port=free_port(), admin_port=free_port())
    process = JanusProcess(write_config(folder / "conf", options, keys), options)
    process.start()
    try:
        yield options, keys
    finally:
        process.stop()


def test_a_publisher_is_heard_by_a_subscriber_holding_a_token_and_nobody_else_gets_in(janus: tuple[JanusOptions, JanusSecrets]) -> None:
    options, keys = janus
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(RATE * 30) / RATE)).astype(np.float32)

    async def scenario() -> tuple[np.ndarray, list[str]]:
        server = await JanusSession(options.url, api_secret=keys.api_secret).connect()
        admin = JanusAdmin(options.admin_url, keys.admin_secret)
        await admin.connect()
        rooms = VideoRoom(await server.attach(), keys)
        await rooms.create(42, "thử nghiệm", ["server-token"])
        await admin.add_token("member-token")
        await rooms.allow(42, ["member-token"])
        publisher = Publisher(server, 42, 1, "room", rtc_configuration(()), token="server-token")
        publisher.add(ArrayAudioTrack(tone))
        await publisher.publish()
        member = await JanusSession(options.url, token="member-token").connect()
        sub = Subscriber(member, 42, 1, rtc_configuration(()), token="member-token")
        got: list[np.ndarray] = []
        sub.pc.on("track", lambda track: asyncio.ensure_future(read_audio(track, lambda c: got.append(c.samples))))
        await sub.subscribe()
        deadline = time.monotonic() + 20
        while sum(map(len, got)) < 2 * RATE and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        refused = []
        for token in ("guessed", None):
            try:
                await JanusSession(options.url, token=token).connect()
            except JanusError as exc:
                refused.append(exc.message_en)
        other = await JanusSession(options.url, token="member-token").connect()
        try:  # a token Janus knows, but the room's allowed list does not name it any more: no publishing
            await rooms.allow(42, ["member-token"], add=False)
            intruder = Publisher(other, 42, 7, "kẻ lạ", rtc_configuration(()), token="member-token")
            intruder.add(ArrayAudioTrack())
            await intruder.publish()
        except JanusError as exc:
            refused.append(exc.message_en)
        await admin.remove_token("member-token")
        try:
            await JanusSession(options.url, token="member-token").connect()
        except JanusError as exc:
            refused.append(exc.message_en)
        await sub.close()
        await publisher.close()
        await rooms.destroy(42)
        for s in (member, other, server):
            await s.close()
        await admin.close()
        return (np.concatenate(got) if got else np.zeros(0, np.float32)), refused

    heard, refused = asyncio.run(scenario())
    assert len(heard) >= 2 * RATE, f"heard {len(heard) / RATE:.1f} s"
    spectrum = np.abs(np.fft.rfft(heard[-RATE:])) ** 2
    assert np.fft.rfftfreq(RATE, 1 / RATE)[int(spectrum.argmax())] == pytest.approx(440, abs=5)
    assert len(refused) == 4, refused


def test_a_request_on_a_socket_closed_under_it_says_so_and_leaves_no_answer_waiting() -> None:
    """Janus went away between two keepalives: the request fails with the project's error, not the
    WebSocket library's, and no pending answer is left for nobody to read."""
    from websockets.asyncio.server import ServerConnection, serve

    async def closes(ws: ServerConnection) -> None:
        await ws.close()

    async def run() -> None:
        async with serve(closes, "127.0.0.1", 0, subprotocols=[Subprotocol("janus-protocol")]) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            sock = JanusSocket(f"ws://127.0.0.1:{port}")
            await sock.connect()
            await asyncio.wait_for(sock.closed.wait(), 10)
            sock.closed.clear()  # the moment between the reader's end and the next request's check
            with pytest.raises(JanusError, match="lost"):
                await sock.request({"janus": "keepalive", "session_id": 1})
            assert sock._pending == {}
            await sock.close()

    asyncio.run(run())

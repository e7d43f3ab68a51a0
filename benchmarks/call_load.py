"""Remote participants: what each costs the server, how many one server carries, and how late the
room's sound reaches them.

Load (default): the server runs as its own process (`meeting-room serve`, the room's microphone a
replayed file, with --video an MJPEG camera at 1280x720 on loopback); N aiortc client peers,
spread over ``--client-processes`` processes of their own (default one per core: one interpreter
running every peer saturates a core at ~16), join the meeting's call, send quiet audio and receive the room (audio, and with
--video the camera as VP8 at the configured size and rate). Over ``--seconds`` it prints the server
process's CPU (share of all cores), the audio each client received per second of wall time (1.00 =
nothing lost) and the video frame rate they got. The clients share the machine with the server:
their decoding is not in the server's figure, but it competes for the same cores (their own CPU is
the "clients CPU" column). The server's own count of what it lost (its /metrics, read from
loopback before and after the window) says where missing audio went: dropped before sending (a
connection's sender fell behind: the event loop was busy), or never mixed (the mixer's thread was
held up over 100 ms), as shares of the audio due; the rest of what a client missed was lost on its
side (a load client starved of CPU) or on the way. Last, the share of the server's event-loop
wake-ups (a timer every 0.1 s) that came over 50 ms late: how long the loop waited for its turn.
With the room's and the talking participants' live captions, the finals made in the window, their
mean delay and the share within 2 s, as the server measures it (end of speech -> final caption,
its /metrics histogram).

Delay (--delay): the server in this process, one client; the room's input plays a 1 kHz burst
every second. Mouth-to-ear = the burst's first sample captured by the room input (its block's
wall-clock stamp + offset) -> the client's decoded frame that carries it (arrival, before any
playout buffer of a browser).

    .venv/bin/python benchmarks/call_load.py --participants 1,2,4,8 --seconds 30 [--video]
    .venv/bin/python benchmarks/call_load.py --delay --seconds 20
    .venv/bin/python benchmarks/call_load.py --smoke [--delay]
    .venv/bin/python benchmarks/call_load.py --sfu --participants 4,8,16 [--video] [--delay]

--sfu: each participant count twice in one run, the built-in path then through Janus (the server
runs Debian's janus, every meeting through it); the Janus process's CPU is its own column. Through
Janus each load client subscribes to the room only (not to the other clients: N clients hearing
each other would be N² streams decoded in this one process, which measures the clients). Janus's
own packet counters (Admin API ``handle_info``) are read before and after the window: for each
subscriber to the room, the packets Janus sent it over the packets the room published (1.00 =
Janus forwarded everything), which says what the SFU did whatever the load clients, sharing the
same cores, then managed to decrypt and decode.

The server speaks HTTPS as it ships; the clients trust its local CA (``benchmarks/served.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import itertools
import json
import multiprocessing
import os
import ssl
import statistics
import sys
import tempfile
import threading
import time
import wave
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import httpx2 as httpx  # noqa: E402
from served import Served, free_port, serve  # noqa: E402  (this folder: the script's own)

from meeting_room import events as ev  # noqa: E402
from meeting_room.auth import actor_of  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.lifecycle import MeetingState  # noqa: E402
from meeting_room.operations.tls import ensure_tls  # noqa: E402
from meeting_room.roles import MeetingRole, Role  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import bodies, meetings, members, rooms  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402
from webrtc.client import CallClient  # noqa: E402
from webrtc.janus import JanusSocket  # noqa: E402
from webrtc.opus import FRAME, RATE, OpusEncoder  # noqa: E402

PASSWORD = "do-kiem-2026"
CLK = os.sysconf("SC_CLK_TCK")


def _wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def room_speech(seconds: float = 60.0) -> np.ndarray:
    """Real Vietnamese speech for the room's input (VIVOS and FPT utterances from ../shared/testdata,
    0.8 s apart, at 48 kHz), so that its live captions decode while the participants talk; the
    sine when the data is absent."""
    from room_live import TESTDATA, _utterances  # this folder's own

    from hardware.media import SAMPLE_RATE
    from hardware.resample import Resampler

    vivos, fpt = _utterances(TESTDATA / "asr_vi" / "vivos"), _utterances(TESTDATA / "asr_vi" / "fpt")
    clips = [c for pair in itertools.zip_longest(vivos, fpt) for c in pair if c is not None]
    if not clips:
        print("no utterances in ../shared/testdata/asr_vi (vivos, fpt): the room plays a sine instead")
        return room_sine()
    gap, parts, n = np.zeros(int(0.8 * SAMPLE_RATE), np.float32), [], 0
    for clip in clips:
        parts += [clip, gap]
        n += len(clip) + len(gap)
        if n >= seconds * SAMPLE_RATE:
            break
    return Resampler(SAMPLE_RATE, RATE)(np.concatenate(parts)).astype(np.float32)


def room_sine() -> np.ndarray:
    """The room's input by default: a steady 440 Hz sine (the live captions find no speech in it)."""
    return (0.1 * np.sin(2 * np.pi * 440 * np.arange(RATE * 2) / RATE)).astype(np.float32)


def bursts(seconds: float = 10.0) -> np.ndarray:
    """A 100 ms 1 kHz burst at the start of every second."""
    out = np.zeros(int(seconds * RATE), np.float32)
    t = np.arange(RATE // 10) / RATE
    for k in range(int(seconds)):
        out[k * RATE : k * RATE + len(t)] = 0.5 * np.sin(2 * np.pi * 1000 * t)
    return out


def prepare(folder: Path, n: int, room_audio: np.ndarray, camera_url: str | None) -> tuple[dict[str, Any], str, list[str]]:
    """A store with ``n`` participants and an open meeting in a room whose input replays ``room_audio``."""
    wav = _wav(folder / "room.wav", room_audio)
    room_file = folder / "room.toml"
    camera = f'\n[[cameras]]\nname = "toan-canh"\nurl = "{camera_url}"\n' if camera_url else ""
    room_file.write_text(f'room = "Phòng đo"\n[[microphones]]\nname = "ban-hop"\nfile = "{wav}"\nloop = true\n{camera}', encoding="utf-8")
    overrides: dict[str, Any] = {"data_dir": folder / "var", "call_loopback": True, "rooms": [room_file]}
    store = open_store(load_settings(**overrides))
    ensure_first_admin(store)
    with store.read() as session:
        admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
    body = bodies.create_body(store, admin, name="HĐND (đo)", short_name="HĐND")
    room = rooms.create_room(store, admin, name="Phòng đo", location=None, seats=["1"])
    users = [f"tructuyen{k}" for k in range(n)]
    ids = [
        members.create_member(store, admin, full_name=f"Đại biểu {k}", roles=[Role.MEMBER], username=u, password=PASSWORD, body_id=body)
        for k, u in enumerate(users)
    ]
    mid = meetings.schedule_meeting(
        store, admin,
        ev.MeetingScheduled(meeting_id=meetings.new_meeting_id(), body_id=body, title="Phiên họp đo tải", room_id=room,
                            starts_at=datetime.now(UTC) + timedelta(hours=1), chair_id=ids[0]),
        invite_body_members=False,
    )  # fmt: skip
    for member_id in ids[1:]:
        meetings.add_participant(store, admin, mid, member_id, role=MeetingRole.MEMBER)
    meetings.transition(store, admin, mid, MeetingState.OPEN)
    meetings.transition(store, admin, mid, MeetingState.IN_SESSION)
    store.engine.dispose()
    return overrides, mid, users


def _janus_pid(server_pid: int) -> int | None:
    """The janus process the server started (its child)."""
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if Path(f"/proc/{child}/comm").read_text().strip() == "janus":
                return int(child)
    return None


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


async def _janus_counts(admin: tuple[int, Path] | None) -> dict[int, dict[str, Any]]:
    """Janus's own packet counters, per handle (its Admin API's ``handle_info``): what the room's
    publisher sent in, and what each subscriber to the room was sent, by kind. These say what Janus
    forwarded whatever the load clients then managed to decrypt and decode."""
    if admin is None:
        return {}
    port, secrets_file = admin
    sock = JanusSocket(f"ws://127.0.0.1:{port}", admin=True, secret=json.loads(secrets_file.read_text())["admin_secret"])
    await sock.connect()
    out: dict[int, dict[str, Any]] = {}
    try:
        for session in (await sock.request({"janus": "list_sessions"})).get("sessions", []):
            for handle in (await sock.request({"janus": "list_handles", "session_id": session})).get("handles", []):
                info = (await sock.request({"janus": "handle_info", "session_id": session, "handle_id": handle})).get("info", {})
                plugin = info.get("plugin_specific", {})
                media = info.get("webrtc", {}).get("media", {}).values()
                counts: dict[str, Any] = {"role": plugin.get("type"), "at": time.monotonic()}
                if plugin.get("type") == "publisher":
                    counts["room"] = plugin.get("display") == "room"
                else:
                    counts["room"] = any(st.get("feed_display") == "room" for st in plugin.get("streams", []))
                for m in media:
                    way = "in" if counts["role"] == "publisher" else "out"
                    counts[m.get("type")] = counts.get(m.get("type"), 0) + int(m.get("stats", {}).get(way, {}).get("packets", 0))
                out[handle] = counts
    finally:
        await sock.close()
    return out


LOST = ("meeting_room_call_audio_dropped_frames_total", "meeting_room_call_mixer_skipped_frames_total")
LAG = ("meeting_room_event_loop_lag_seconds_count", 'meeting_room_event_loop_lag_seconds_bucket{le="0.05"}')
# the live captions' delays as the server measures them (end of speech -> final caption)
CAPTIONS = {"finals": "meeting_room_caption_delay_seconds_count", "delay_s": "meeting_room_caption_delay_seconds_sum",
            "within": "meeting_room_caption_delay_seconds_bucket"}  # fmt: skip


async def _server_counts(base: str, cafile: Path) -> dict[str, float]:
    """The server's own counts (/metrics, read from loopback): remote listeners' frames dropped
    before sending (a sender behind) and never mixed (a mixer held up); its event loop's wake-ups,
    and those within 50 ms."""
    async with httpx.AsyncClient(base_url=base, timeout=30, verify=ssl.create_default_context(cafile=str(cafile))) as http:
        text = (await http.get("/metrics")).raise_for_status().text
    values = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#") and " " in line)
    counts = {name: float(values[name]) for name in LOST + LAG}
    for key, prefix in CAPTIONS.items():  # summed over the rooms' label sets (one room here)
        counts[key] = sum(float(v) for name, v in values.items() if name.startswith(prefix) and (key != "within" or 'le="2.0"' in name))
    return counts


def _forwarded(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]], kind: str) -> list[float]:
    """Per subscriber to the room: its packet rate from Janus over the room's published rate (each
    handle's counters are read at their own moment: rates, not counts, are compared)."""

    def rate(handle: int) -> float:
        return float(after[handle].get(kind, 0) - before[handle].get(kind, 0)) / max(
            1e-6, float(after[handle]["at"] - before[handle]["at"])
        )

    published = sum(rate(h) for h, c in after.items() if c["room"] and c["role"] == "publisher" and h in before)
    if published <= 0:
        return []
    return [rate(h) / published for h, c in after.items() if c["room"] and c["role"] == "subscriber" and h in before]


class _OpusLoop(MediaStreamTrack):
    """A load client's microphone: Opus payloads encoded once, sent in a loop at real-time pace.
    A browser encodes its microphone natively; encoding it here, per client, in Python's one
    interpreter would make the load generator, not the server, the thing measured."""

    kind = "audio"

    def __init__(self, payloads: list[bytes]) -> None:
        super().__init__()
        self._payloads = payloads
        self._sent = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._sent * FRAME / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        packet = av.Packet(self._payloads[self._sent % len(self._payloads)])
        packet.pts, packet.time_base = self._sent * FRAME, fractions.Fraction(1, RATE)
        self._sent += 1
        return packet

    @staticmethod
    def encoded(samples: np.ndarray) -> list[bytes]:
        encoder = OpusEncoder()
        frames = (samples[i : i + FRAME] for i in range(0, len(samples) - FRAME + 1, FRAME))
        return [encoder.encode(f) for f in frames]


async def _join(
    base: str, ws: str, tls: ssl.SSLContext, users: list[str], video: bool, seconds: float, muted: bool, talking: list[str]
) -> list[CallClient]:
    """Every user's peer in the call, sending room tone (an open microphone), or with ``muted``
    silence after telling the server so (a browser's disabled track sends digital silence); the
    ``talking`` ones speak (Vietnamese utterances, each from its own place in them)."""
    quiet = (0.001 * np.random.default_rng(1).standard_normal(RATE * 5)).astype(np.float32)  # room tone, not speech
    microphone = _OpusLoop.encoded(np.zeros(RATE, np.float32) if muted else quiet)
    voice = _OpusLoop.encoded(room_speech(30)) if set(talking) & set(users) else []
    clients = []
    async with httpx.AsyncClient(base_url=base, timeout=30, verify=tls) as http:
        for user in users:
            token = (await http.post("/api/auth/login", json={"username": user, "password": PASSWORD})).json()["token"]
            said = voice[talking.index(user) * 150 :] + voice[: talking.index(user) * 150] if user in talking else microphone  # 3 s apart
            client = CallClient(ws, token, audio=_OpusLoop(said), receive_video=video, ssl_context=tls, hear_others=False)
            await client.join(timeout=60)
            if muted:
                await client.send({"type": "mute", "muted": True})
            clients.append(client)
    return clients


def _client_process(
    base: str, ws: str, cafile: str, users: list[str], video: bool, seconds: float, muted: bool, talking: list[str], conn: Connection
) -> None:
    """One load-client process (its own interpreter and GIL): join ``users``' peers, then on "mark"
    and "stop" from the parent measure what they received in between, and send it back."""

    async def run() -> None:
        tls = ssl.create_default_context(cafile=cafile)
        clients = await _join(base, ws, tls, users, video, seconds, muted, talking)
        conn.send("joined")
        await asyncio.to_thread(conn.recv)  # "mark"
        marks = [(c.heard.audio_samples, c.heard.video_frames) for c in clients]
        own0, wall0 = os.times(), time.monotonic()
        await asyncio.to_thread(conn.recv)  # "stop"
        own1, wall = os.times(), time.monotonic() - wall0
        conn.send({
            "audio": [(c.heard.audio_samples - a) / RATE / wall for c, (a, _) in zip(clients, marks, strict=True)],
            "fps": [(c.heard.video_frames - v) / wall for c, (_, v) in zip(clients, marks, strict=True)],
            "cpu_s": (own1.user + own1.system) - (own0.user + own0.system),
            "size": clients[0].heard.video_size,
            "through_janus": clients[0].janus is not None,
        })  # fmt: skip
        for c in clients:
            await c.leave()

    asyncio.run(run())


async def _clients(
    server: Served,
    mid: str,
    users: list[str],
    video: bool,
    seconds: float,
    admin: tuple[int, Path] | None,
    cafile: Path,
    processes: int,
    muted: bool,
    talking: list[str],
) -> dict[str, Any]:
    """The load clients in ``processes`` processes of their own, so that one interpreter decrypting
    and decoding every stream is not what the run measures (they still share the machine's cores)."""
    ws, pid = server.ws_base + f"/api/meetings/{mid}/call", server.process.pid
    janus = _janus_pid(pid)
    spawn = multiprocessing.get_context("spawn")
    pipes, workers = [], []
    for k in range(processes):
        here, there = spawn.Pipe()
        share = users[k::processes]
        if share:
            workers.append(
                spawn.Process(target=_client_process, args=(server.base, ws, str(cafile), share, video, seconds, muted, talking, there))
            )
            pipes.append(here)
            workers[-1].start()
        there.close()  # the child's end: a child that dies then shows as the pipe's end here

    async def answer(pipe: Connection, timeout: float) -> Any:
        if not await asyncio.to_thread(pipe.poll, timeout):
            raise RuntimeError(f"a load-client process did not answer within {timeout:.0f} s")
        return pipe.recv()  # EOFError when it died

    ok = False
    try:
        for pipe in pipes:
            if await answer(pipe, 300) != "joined":
                raise RuntimeError("a load-client process did not join")
        await asyncio.sleep(3.0)  # settle (encoders warm, jitter buffers filled)
        counted, lost0 = await _janus_counts(admin), await _server_counts(server.base, cafile)
        cpu0, wall0, j0 = _cpu(pid), time.monotonic(), _cpu(janus) if janus else 0.0
        for pipe in pipes:
            pipe.send("mark")
        await asyncio.sleep(seconds)
        for pipe in pipes:
            pipe.send("stop")
        cpu1, wall, j1 = _cpu(pid), time.monotonic() - wall0, _cpu(janus) if janus else 0.0
        recounted, lost1 = await _janus_counts(admin), await _server_counts(server.base, cafile)
        results = [await answer(pipe, 60) for pipe in pipes]
        ok = True
    finally:
        if not ok:  # the others would wait for a "mark" or "stop" that never comes
            for worker in workers:
                worker.terminate()
        deadline = time.monotonic() + 60
        for worker in workers:
            await asyncio.to_thread(worker.join, max(0.1, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
        for pipe in pipes:
            pipe.close()
    audio_rate = [x for r in results for x in r["audio"]]
    fps = [x for r in results for x in r["fps"]]
    cores = os.cpu_count() or 1
    return {
        "server_cpu": (cpu1 - cpu0) / wall / cores,
        "janus_cpu": (j1 - j0) / wall / cores,
        "through_janus": janus is not None and all(r["through_janus"] for r in results),
        "clients_cpu": sum(r["cpu_s"] for r in results) / wall / cores,
        "audio_min": min(audio_rate),
        "audio_mean": statistics.mean(audio_rate),
        "fps_min": min(fps),
        "fps_mean": statistics.mean(fps),
        "size": results[0]["size"],
        # shares of the audio due in the window (50 frames a second to each of them)
        "dropped": (lost1[LOST[0]] - lost0[LOST[0]]) / (50 * wall * len(users)),
        "skipped": (lost1[LOST[1]] - lost0[LOST[1]]) / (50 * wall),
        "loop_late": 1 - (lost1[LAG[1]] - lost0[LAG[1]]) / max(1.0, lost1[LAG[0]] - lost0[LAG[0]]),
        "finals": (finals := lost1["finals"] - lost0["finals"]),
        "caption_mean": (lost1["delay_s"] - lost0["delay_s"]) / finals if finals else float("nan"),
        "caption_within_2s": (lost1["within"] - lost0["within"]) / finals if finals else float("nan"),
        "janus_audio": _forwarded(counted, recounted, "audio"),
        "janus_video": _forwarded(counted, recounted, "video"),
    }


def load(
    n: int, seconds: float, video: bool, width: int, height: int, fps: float, sfu: bool = False, processes: int = 1, muted: bool = False,
    speech: bool = False, models: Path | None = None, talking: int = 0,
) -> dict[str, Any]:  # fmt: skip
    from hardware.mjpeg import MjpegServer, _jpeg

    cam = None
    with tempfile.TemporaryDirectory() as tmp:
        if video:  # 1280x720 with detail and motion (a still picture would cost the encoders nothing), 25 fps
            rng = np.random.default_rng(0)
            img = (np.kron(rng.integers(0, 255, (72, 128, 3)), np.ones((10, 10, 1)))).astype(np.uint8)
            cam = MjpegServer([_jpeg(np.roll(img, 12 * k, axis=1)) for k in range(50)], fps=25).start()
        _, mid, users = prepare(Path(tmp), n, room_speech() if speech else room_sine(), cam.url if cam else None)
        env = {"MEETING_ROOM_CALL_LOOPBACK": "true", "MEETING_ROOM_ROOMS": json.dumps([str(Path(tmp) / "room.toml")]),
               "MEETING_ROOM_CALL_VIDEO_WIDTH": str(width), "MEETING_ROOM_CALL_VIDEO_HEIGHT": str(height),
               "MEETING_ROOM_CALL_VIDEO_FPS": str(fps)}  # fmt: skip
        if models is not None:  # on disk, as on a server after its first start: they load at start (speech_runtime.warm_up)
            env["MEETING_ROOM_MODELS_DIR"] = str(models)
        admin = None
        if sfu:
            admin = (free_port(), Path(tmp) / "var" / "janus" / "secrets.json")
            env |= {"MEETING_ROOM_JANUS": "run", "MEETING_ROOM_JANUS_MIN_PARTICIPANTS": "0",
                    "MEETING_ROOM_JANUS_WS_PORT": str(free_port()), "MEETING_ROOM_JANUS_ADMIN_PORT": str(admin[0])}  # fmt: skip
        try:
            with (Path(tmp) / "server.log").open("w") as log, serve(Path(tmp) / "var", env, log) as server:
                time.sleep(3)  # the room goes live
                return {
                    "n": n,
                    **asyncio.run(
                        _clients(
                            server,
                            mid,
                            users,
                            video,
                            seconds,
                            admin,
                            Path(tmp) / "var" / "tls" / "ca.crt",
                            processes,
                            muted,
                            users[:talking],
                        )
                    ),
                }
        finally:
            if cam:
                cam.stop()


def delay(seconds: float, sfu: bool = False) -> dict[str, Any]:
    import uvicorn

    from meeting_room.api import create_app

    with tempfile.TemporaryDirectory() as tmp:
        overrides, mid, users = prepare(Path(tmp), 1, bursts(), None)
        if sfu:
            overrides |= {"janus": "run", "janus_min_participants": 0, "janus_ws_port": free_port(), "janus_admin_port": free_port()}
        settings = load_settings(**overrides)
        store = open_store(settings)
        app = create_app(settings, store)
        onsets: list[float] = []  # wall-clock capture time of each burst's first sample in the room
        original = app.state.runtime.calls.room_audio
        quiet = {"n": RATE}

        def spy(meeting_id: str, name: str, samples: np.ndarray, wall: float) -> None:
            loud = np.flatnonzero(np.abs(samples) > 0.1)
            if len(loud) and quiet["n"] + loud[0] >= RATE // 2:
                onsets.append(wall + loud[0] / RATE)
            quiet["n"] = len(samples) - 1 - loud[-1] if len(loud) else quiet["n"] + len(samples)
            original(meeting_id, name, samples, wall)

        app.state.runtime.calls.room_audio = spy
        from webrtc import opus

        sent: list[float] = []  # when each burst's frame was handed to the Opus encoder (the server's share)
        encode = opus.OpusEncoder.encode
        state = {"quiet": RATE}

        def timed(self: opus.OpusEncoder, x: np.ndarray) -> bytes:
            loud = np.flatnonzero(np.abs(x) > 0.1)
            if len(loud) and state["quiet"] + loud[0] >= RATE // 2:
                sent.append(time.time())
            state["quiet"] = len(x) - 1 - loud[-1] if len(loud) else state["quiet"] + len(x)
            return encode(self, x)

        opus.OpusEncoder.encode = timed  # type: ignore[method-assign,assignment]
        port = free_port()
        files = ensure_tls(settings)  # HTTPS as the server runs by default; the client trusts its local CA
        tls = ssl.create_default_context(cafile=str(files.ca))
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ssl_certfile=files.cert, ssl_keyfile=files.key)
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        time.sleep(3)

        async def listen() -> list[tuple[float, np.ndarray]]:
            async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{port}", verify=tls) as http:
                token = (await http.post("/api/auth/login", json={"username": users[0], "password": PASSWORD})).json()["token"]
            client = CallClient(f"wss://127.0.0.1:{port}/api/meetings/{mid}/call", token, ssl_context=tls)
            await client.join(timeout=60)
            await asyncio.sleep(seconds)
            await client.leave()
            return client.heard.audio

        heard = asyncio.run(listen())
        server.should_exit = True
        time.sleep(3 if sfu else 1)  # the server stops Janus on its way out
        store.engine.dispose()
    arrivals, run = [], RATE
    for at, block in heard:
        loud = np.flatnonzero(np.abs(block) > 0.1)
        if len(loud) and run + loud[0] >= RATE // 2:
            arrivals.append(at)
        run = len(block) - 1 - loud[-1] if len(loud) else run + len(block)
    delays = []
    for a in arrivals:  # each arrival matched to the latest burst captured before it
        before = [o for o in onsets if o <= a]
        if before and a - before[-1] < 0.9:
            delays.append((a - before[-1]) * 1000)
    in_server = [(x - max(o for o in onsets if o <= x)) * 1000 for x in sent if any(o <= x for o in onsets)]
    return {"bursts": len(onsets), "heard": len(arrivals), "delays_ms": sorted(delays), "server_ms": sorted(in_server)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", default="1,2,4,8", help="participant counts to try, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--video", action="store_true", help="a room camera; every participant receives it")
    parser.add_argument("--size", default="640x360", help="video sent to participants, WxH")
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--delay", action="store_true", help="measure mouth-to-ear delay room -> remote instead")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: 1 participant for 3 s")
    parser.add_argument("--sfu", action="store_true", help="each count on the built-in path and through Janus, in one run")
    parser.add_argument("--janus-only", action="store_true", help="with --sfu: through Janus only (counts the built-in path cannot carry)")
    parser.add_argument("--client-processes", type=int, default=os.cpu_count() or 1,
                        help="processes the load clients are spread over (default: one per core)")  # fmt: skip
    parser.add_argument(
        "--muted", action="store_true", help="every participant mutes after joining (members listening while one has the floor)"
    )
    parser.add_argument(
        "--room-speech", action="store_true", help="the room's input replays Vietnamese speech (its live captions decode meanwhile)"
    )
    parser.add_argument("--talking", type=int, default=0, help="this many participants speak at once (Vietnamese utterances)")
    parser.add_argument("--models-dir", type=Path, default=Path(tempfile.gettempdir()) / "meeting-room-bench-models",
                        help="the speech models, made ready here before the server starts (as after a server's first start)")  # fmt: skip
    args = parser.parse_args()
    if args.smoke:
        args.participants, args.seconds = "1", 3.0
    from speech.models import ModelStore

    store = ModelStore(args.models_dir)
    store.ensure_default()
    store.resolve_diarization()
    print(f"machine: {os.cpu_count()} cores; {datetime.now():%Y-%m-%d %H:%M}; load clients in {args.client_processes} processes"
          + ("; every participant muted" if args.muted else "; every participant's microphone open (room tone)")
          + (f"; {args.talking} of them speaking at once" if args.talking else "")
          + ("; the room speaking (VIVOS + FPT)" if args.room_speech else "; the room's input a sine"))  # fmt: skip
    if args.delay:
        for through in (False, True) if args.sfu else (False,):
            if args.sfu:
                print("through Janus:" if through else "built-in path:")
            _print_delay(delay(args.seconds, through))
        return
    w, h = (int(v) for v in args.size.split("x"))
    video_head = f" | video fps (min/mean) {args.size}@{args.fps:g}" if args.video else ""
    if args.sfu:
        print(f"{'N':>3} | path     | server CPU | janus CPU | clients CPU | audio received (min/mean){video_head}"
              " | Janus sent of the room's packets: audio (min/mean)" + (", video (min/mean)" if args.video else ""))  # fmt: skip
    else:
        print(f"{'N':>3} | server CPU | per participant | clients CPU | audio received (min/mean) | lost on the server: "
              "dropped before sending / never mixed | event loop over 50 ms late | final captions: n, mean delay, within 2 s"
              f"{video_head}")  # fmt: skip
    for n in (int(x) for x in args.participants.split(",")):
        for through in ((True,) if args.janus_only else (False, True)) if args.sfu else (False,):
            r = load(n, args.seconds, args.video, w, h, args.fps, through, args.client_processes, args.muted, args.room_speech,
                     args.models_dir, args.talking)  # fmt: skip
            video = f" | {r['fps_min']:.1f} / {r['fps_mean']:.1f} ({r['size']})" if args.video else ""
            if args.sfu:
                assert r["through_janus"] == through, "the run went through the path it names"
                path = "janus" if through else "built-in"
                sent = " | —"
                if through:
                    sent = f" | {_min_mean(r['janus_audio'])}" + (f", {_min_mean(r['janus_video'])}" if args.video else "")
                print(f"{n:>3} | {path:<8} | {r['server_cpu']:>9.0%} | {r['janus_cpu']:>8.0%} | {r['clients_cpu']:>10.0%} | "
                      f"{r['audio_min']:.2f} / {r['audio_mean']:.2f}{video}{sent}", flush=True)  # fmt: skip
                continue
            per = r["server_cpu"] / n
            print(f"{n:>3} | {r['server_cpu']:>9.0%} | {per:>14.1%} | {r['clients_cpu']:>10.0%} | "
                  f"{r['audio_min']:.2f} / {r['audio_mean']:.2f} | {r['dropped']:.3f} / {r['skipped']:.3f} | {r['loop_late']:.3f} | "
                  f"{r['finals']:.0f}, {r['caption_mean']:.2f} s, {r['caption_within_2s']:.2f}{video}",
                  flush=True)  # fmt: skip


def _min_mean(ratios: list[float]) -> str:
    return f"{min(ratios):.2f} / {statistics.mean(ratios):.2f} (n={len(ratios)})" if ratios else "none counted"


def _print_delay(r: dict[str, Any]) -> None:
    d = r["delays_ms"]
    print(f"bursts in the room {r['bursts']}, heard by the remote participant {r['heard']}")
    if d:
        print(f"mouth-to-ear room -> remote (capture to decoded frame, loopback): median {statistics.median(d):.0f} ms, "
              f"min {d[0]:.0f}, p90 {d[int(0.9 * (len(d) - 1))]:.0f}, max {d[-1]:.0f} ms (n={len(d)})")  # fmt: skip
    if r["server_ms"]:
        server = statistics.median(r["server_ms"])
        print(
            f"  of which in the server (capture -> frame handed to the Opus encoder): median {server:.0f} ms; "
            "the rest is encoding, RTP over loopback, the receiver's jitter buffer (aiortc: 4 packets = 80 ms) and decoding"
        )


if __name__ == "__main__":
    main()

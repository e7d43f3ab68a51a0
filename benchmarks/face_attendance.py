"""Face recognition speed on 2 cores, and the time from a member entering a camera's view to
"present" on the chair's screen.

    .venv/bin/python benchmarks/face_attendance.py [--data ../shared/testdata/faces] [--seconds 20] [--smoke]

1. Throughput: frames analysed per second (detect + encode every face) through the worker pool
   (1 and 2 processes) at 640x480 and 1280x720, and faces encoded per second. Frames are the
   group photos of the evaluation data when present, otherwise generated scenes.
2. End to end: the server runs in its own process; ``meeting-room watch-camera`` (another process,
   committing to the same database) plays a 1280x720 video at real-time pace in which an enrolled
   member appears after 4 s; the chair's WebSocket receives ``attendance.recorded``. The delay is
   measured from the first frame that shows the face (default settings: 2 frames/s sampled,
   3 sightings).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, wait
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import numpy as np
from PIL import Image
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from served import serve  # noqa: E402  (this folder: the script's own)

from meeting_room import events as ev  # noqa: E402
from meeting_room.attendance import AttendanceStatus  # noqa: E402
from meeting_room.auth import actor_of, hash_password  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.lifecycle import MeetingState  # noqa: E402
from meeting_room.roles import Role  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import attendance, bodies, faces, meetings, members  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402
from tests.face_photos import astronaut, hopper, jpeg_bytes, scene, write_video  # noqa: E402
from vision.enrolment import EnrolmentRules  # noqa: E402
from vision.faces import FaceEngine, FaceOptions, Observation  # noqa: E402
from vision.pool import FacePool  # noqa: E402

APPEARS_AT = 4.0


def _frames(data: Path | None, size: tuple[int, int]) -> list[np.ndarray]:
    photos = []
    if data is not None and (data / "group").exists():
        photos = sorted((data / "group").rglob("*.jpg"))
    if photos:
        return [np.asarray(Image.open(p).convert("RGB").resize(size)) for p in photos]
    return [
        scene(people, size, face_width=size[0] // 4)
        for people in ([astronaut()], [hopper(), astronaut()], [astronaut(), hopper(), astronaut()])
    ]


def throughput(data: Path | None, seconds: float) -> None:
    for workers in (1, 2):
        pool = FacePool(FaceOptions(), workers=workers, max_pending=workers * 2)
        pool.warm_up()
        try:
            for size in ((640, 480), (1280, 720)):
                frames = _frames(data, size)
                done = faces_found = 0
                inflight: list[Future[list[Observation]]] = []
                start = time.perf_counter()
                i = 0
                while time.perf_counter() - start < seconds:
                    future = pool.submit(frames[i % len(frames)])
                    i += 1
                    if future is None:
                        finished, _ = wait([f for f in inflight if not f.done()] or inflight, return_when="FIRST_COMPLETED")
                        continue
                    inflight.append(future)
                    for f in [f for f in inflight if f.done()]:
                        faces_found += len(f.result())
                        done += 1
                        inflight.remove(f)
                for f in inflight:
                    faces_found += len(f.result())
                    done += 1
                elapsed = time.perf_counter() - start
                print(f"workers={workers} {size[0]}x{size[1]}: {done / elapsed:5.2f} frames/s, {faces_found / elapsed:5.2f} faces/s "
                      f"({faces_found / max(1, done):.1f} faces per frame)")  # fmt: skip
        finally:
            pool.close()


def end_to_end(runs: int) -> None:
    delays = []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            delays.append(_one_run(Path(tmp)))
            print(f"  run {run + 1}: entering the view -> present on the chair's screen {delays[-1]:.2f} s")
    print(f"entering the view -> present on the chair's screen: median {np.median(delays):.2f} s, max {max(delays):.2f} s ({runs} runs)")


def _one_run(tmp: Path) -> float:
    settings = load_settings(data_dir=tmp / "var")
    store = open_store(settings)
    first = ensure_first_admin(store)
    assert first is not None
    with store.read() as session:
        admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
    body = bodies.create_body(store, admin, name="UBND tỉnh (đo)", short_name="UBND")
    digest = hash_password("mat-khau-chu-toa")
    chair = members.create_member(
        store, admin, full_name="Chủ tọa", roles=[Role.CHAIR], username="chutoa", body_id=body, password_hash=digest
    )
    member = members.create_member(
        store, admin, full_name="Eileen Collins", roles=[Role.MEMBER], username="collins", body_id=body, password_hash=digest
    )
    faces.set_consent(store, admin, member, True)
    faces.enrol_faces(store, admin, member, [("collins.jpg", jpeg_bytes(astronaut()))], FaceEngine(), EnrolmentRules())
    scheduled = ev.MeetingScheduled(
        meeting_id=meetings.new_meeting_id(), body_id=body, title="Họp đo", starts_at=datetime.now(UTC), chair_id=chair
    )
    meeting_id = meetings.schedule_meeting(store, admin, scheduled)
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(store, admin, meeting_id, state)
    attendance.record(store, admin, meeting_id, chair, AttendanceStatus.PRESENT_IN_ROOM)
    store.engine.dispose()
    fps = 10
    video = write_video(tmp / "cam.mp4", [scene([])] * int(APPEARS_AT * fps) + [scene([astronaut()])] * (12 * fps), fps=fps)

    env = {**os.environ, "MEETING_ROOM_DATA_DIR": str(tmp / "var"), "MEETING_ROOM_LOG_LEVEL": "warning"}
    camera = None
    with serve(tmp / "var") as server:
        base = server.base
        login = {"username": "chutoa", "password": "mat-khau-chu-toa"}
        token = httpx.post(base + "/api/auth/login", json=login, verify=server.tls).json()["token"]

        async def watch() -> float:
            nonlocal camera
            async with connect(f"{server.ws_base}/api/meetings/{meeting_id}/stream?token={token}", ssl=server.tls) as ws:
                while json.loads(await ws.recv())["kind"] != "ready":
                    pass
                command = ["watch-camera", "--meeting", meeting_id, "--source", str(video), "--camera", "Cửa chính", "--once"]
                camera = subprocess.Popen(
                    [sys.executable, "-m", "meeting_room", *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                assert camera.stderr is not None
                line = ""
                while "(started " not in line:  # warnings (a library's deprecation notice) may come first
                    line = await asyncio.to_thread(camera.stderr.readline)
                    if not line:
                        raise RuntimeError("watch-camera ended before it started watching")
                started = float(line.rsplit("started ", 1)[1].rstrip(")\n"))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                    if (
                        msg["kind"] == "event"
                        and msg["event"]["type"] == "attendance.recorded"
                        and msg["event"]["data"]["member_id"] == member
                    ):
                        return time.time() - (started + APPEARS_AT)

        try:
            return asyncio.run(watch())
        finally:
            if camera is not None:
                camera.terminate()
                camera.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces")
    parser.add_argument("--seconds", type=float, default=20.0, help="per throughput measurement")
    parser.add_argument("--runs", type=int, default=3, help="end-to-end runs")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: 1 s per throughput figure, 1 end-to-end run")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.runs = 1.0, 1
    data = args.data if args.data.exists() else None
    print(f"Face attendance benchmark: {os.cpu_count()} cores, dlib HOG upsample 1, frames from {data or 'generated scenes'}")
    throughput(data, args.seconds)
    end_to_end(args.runs)


if __name__ == "__main__":
    main()

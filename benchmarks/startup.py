"""Start-up: how long after ``meeting-room serve`` an open meeting's first live caption arrives,
and how much memory the server holds with its models loaded.

A meeting is in session in a room whose microphone is a file replayed in a loop (the file-backed
room input the tests use, one seat whose member is the speaker: a short pause, one Vietnamese utterance from ../shared/testdata/asr_vi,
or espeak-ng without it, then two seconds of silence). The server is started as it ships (HTTPS,
its own process) ``--starts`` times on the same data directory: the first start, then restarts.
For each start it prints the time to /api/health answering and to the first caption line
committed after the start (``transcript.segment``, read from the database), the server's RSS at
that moment and its peak RSS. The room's clip is part of that time: a caption needs the end of
an utterance (the clip's length and the end-of-speech pause) before it can be decoded.

    .venv/bin/python benchmarks/startup.py [--starts 3] [--models-dir DIR] [--smoke]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from served import serve  # noqa: E402  (this folder: the script's own)

from hardware.media import SAMPLE_RATE, read_all  # noqa: E402
from meeting_room import events as ev  # noqa: E402
from meeting_room.auth import actor_of  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.lifecycle import MeetingState  # noqa: E402
from meeting_room.roles import Role  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import bodies, meetings, members, rooms  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "asr_vi" / "vivos"


def clip(folder: Path) -> tuple[np.ndarray, str]:
    table = TESTDATA / "transcripts.tsv"
    if table.is_file():
        with table.open(encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f, delimiter="\t") if len(r["transcript"].split()) >= 8]
        return read_all(TESTDATA / rows[0]["file"]), f"VIVOS {rows[0]['file']}"
    wav = folder / "tts.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), "Kính thưa các đại biểu, tôi xin khai mạc kỳ họp thứ nhất."], check=True)
    return read_all(wav), "espeak-ng (no testdata)"


def prepare(folder: Path, models: Path) -> tuple[dict[str, str], float]:
    """A data directory with a meeting in session in a room that replays one utterance in a loop."""
    import wave

    speech, source = clip(folder)
    audio = np.concatenate([np.zeros(SAMPLE_RATE // 2, np.float32), speech, np.zeros(2 * SAMPLE_RATE, np.float32)])
    wav = folder / "room.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    room_file = folder / "room.toml"
    room_file.write_text(
        f'room = "Phòng khởi động"\n[[microphones]]\nname = "ban-hop"\nfile = "{wav}"\nchannels = 1\nsample_rate = {SAMPLE_RATE}\n'
        'loop = true\n[[seats]]\nlabel = "1"\nchannel = 0\nmember = "chutoa"\n',  # the seat names the speaker
        encoding="utf-8",
    )
    settings = load_settings(data_dir=folder / "var", models_dir=models, rooms=[room_file])
    store = open_store(settings)
    ensure_first_admin(store)
    with store.read() as session:
        admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
    body = bodies.create_body(store, admin, name="HĐND (đo)", short_name="HĐND")
    room = rooms.create_room(store, admin, name="Phòng khởi động", location=None, seats=["1"])
    chair = members.create_member(store, admin, full_name="Chủ tọa", roles=[Role.MEMBER, Role.CHAIR], username="chutoa",
                                   password="khoi-dong-2026", body_id=body)  # fmt: skip
    mid = meetings.schedule_meeting(
        store, admin,
        ev.MeetingScheduled(meeting_id=meetings.new_meeting_id(), body_id=body, title="Phiên họp khởi động", room_id=room,
                            starts_at=datetime.now(UTC) + timedelta(hours=1), chair_id=chair),
        invite_body_members=False,
    )  # fmt: skip
    meetings.transition(store, admin, mid, MeetingState.OPEN)
    meetings.transition(store, admin, mid, MeetingState.IN_SESSION)
    store.engine.dispose()
    print(f"# room input: {source}, {len(speech) / SAMPLE_RATE:.1f} s of speech after 0.5 s, then 2 s of silence, looped")
    env = {"MEETING_ROOM_MODELS_DIR": str(models), "MEETING_ROOM_ROOMS": f'["{room_file}"]', "PYANNOTE_METRICS_ENABLED": "0"}
    return env, len(speech) / SAMPLE_RATE


def _memory(pid: int) -> tuple[float, float]:
    """The process's RSS and peak RSS, MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def one_start(folder: Path, env: dict[str, str], timeout: float) -> dict[str, float]:
    settings = load_settings(data_dir=folder / "var", models_dir=Path(env["MEETING_ROOM_MODELS_DIR"]))
    store = open_store(settings)
    before = len(store.events(type_prefix="transcript.segment"))
    began = time.time()
    with (folder / "server.log").open("a") as log, serve(folder / "var", env, log) as server:
        health = time.time() - began
        deadline = time.monotonic() + timeout
        while True:
            found = store.events(type_prefix="transcript.segment")
            if len(found) > before:
                first = datetime.fromisoformat(found[before].occurred_at).timestamp() - began
                rss, peak = _memory(server.process.pid)
                break
            if time.monotonic() > deadline:
                tail = (folder / "server.log").read_text(encoding="utf-8", errors="replace")[-3000:]
                raise SystemExit(f"no caption within {timeout:.0f} s of the start; the server's log ends:\n{tail}")
            time.sleep(0.1)
    store.engine.dispose()
    return {"health": health, "caption": first, "rss": rss, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=3, help="the first start, then restarts on the same data")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the first caption")
    parser.add_argument("--models-dir", type=Path, default=Path(tempfile.gettempdir()) / "meeting-room-bench-models")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: one start")
    args = parser.parse_args()
    if args.smoke:
        args.starts = 1
    from speech.models import ModelStore

    ModelStore(args.models_dir).ensure_default()
    load = os.getloadavg()
    print(f"# startup: {os.cpu_count()} cores, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {datetime.now():%Y-%m-%d %H:%M}")
    with tempfile.TemporaryDirectory() as tmp:
        env, speech_s = prepare(Path(tmp), args.models_dir)
        results = []
        for k in range(args.starts):
            r = one_start(Path(tmp), env, args.timeout)
            results.append(r)
            kind = "first start" if k == 0 else f"restart {k}"
            print(f"{kind:>11}: health {r['health']:5.1f} s, first caption {r['caption']:5.1f} s after serve; "
                  f"RSS {r['rss']:.0f} MB, peak {r['peak']:.0f} MB")  # fmt: skip
        later = [r["caption"] for r in results[1:]] or [results[0]["caption"]]
        print(f"first caption after a restart: median {statistics.median(later):.1f} s (the clip: {speech_s:.1f} s of speech)")


if __name__ == "__main__":
    main()

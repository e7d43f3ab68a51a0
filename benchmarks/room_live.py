"""How much one live room costs, how late its captions are, and how many rooms one server carries.

Each room is run by the server's own ``RoomRunner``: a recorded two-seat meeting is replayed at
real-time pace as the room's 2-channel 48 kHz audio interface (the file stand-in, same code path
after capture as a PortAudio device), recorded to FLAC segments, captioned per seat with Whisper
base, and, with ``--cameras``, an MJPEG camera on loopback shows two enrolled members to the face
recogniser. For 1..N rooms at once it prints the CPU share of each stage, the caption delay (the end
of an utterance's speech on the room clock, found by Silero VAD in the audio the benchmark built -> its
last line committed; until 2026-12-02 it counted from the end Whisper gave the line, up to ~1 s earlier), and
the audio the captions had to drop. Rooms are separate meetings: each says other utterances.

The meeting audio is built from real Vietnamese speech in ../shared/testdata/asr_vi (VIVOS on seat
1, FPT Open Speech on seat 2, alternating with pauses); without it, from espeak-ng.

    .venv/bin/python benchmarks/room_live.py --rooms 1,2,3 --seconds 120 [--cameras] [--final-pass] [--models-dir DIR] [--smoke]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hardware.config import CameraConfig, MicrophoneConfig, RecordingConfig, RoomConfig, SeatConfig  # noqa: E402
from hardware.media import SAMPLE_RATE, probe_duration, read_all  # noqa: E402
from hardware.mjpeg import MjpegServer  # noqa: E402
from meeting_room import events as ev  # noqa: E402
from meeting_room.access import Actor  # noqa: E402
from meeting_room.auth import actor_of, hash_password, new_password  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.files.recordings import RecordingFiles  # noqa: E402
from meeting_room.lifecycle import MeetingState  # noqa: E402
from meeting_room.live.live_captions import LiveCaptions  # noqa: E402
from meeting_room.live.room_runner import RoomRunner  # noqa: E402
from meeting_room.roles import MeetingRole, Role  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import meetings, members, rooms  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402
from meeting_room.store import Store  # noqa: E402

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"
STAGES = [  # thread-name prefix -> stage
    ("mic-", "capture (file pacing / PortAudio callback)"),
    ("room-dispatch-", "dispatch + resampling to 16 kHz"),
    ("rec-", "FLAC recording (encode + fsync)"),
    ("captions-", "live captions (VAD + Whisper base)"),
    ("cam-", "camera decode (PyAV MJPEG)"),
    ("room-faces-", "face recognition (HOG + dlib encoder)"),
    ("final-pass", "a final pass (Whisper + diarization, nice +19)"),
]


class FinalPass:
    """``--final-pass``: another meeting's final transcription running beside the live rooms, as the
    server runs one (``TranscriptionJobs``: a thread lowered by ``hardware.priority.background``, the
    final pass's own Whisper instance and the diarization), over and over on a recording until
    stopped. How many seconds of audio it decoded says what the live rooms left it."""

    def __init__(self, settings: Any, audio: Path) -> None:
        self.settings, self.audio = settings, audio
        self.done_s, self._before, self.ready = 0.0, 0.0, threading.Event()
        self.failed: BaseException | None = None  # why it stopped early: the figures would say nothing of it
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="final-pass", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from hardware import priority
        from meeting_room.live import speech_runtime
        from speech.asr import AsrOptions

        priority.background()
        try:
            pipeline = speech_runtime.pipeline(self.settings, diarize=True, background=True)
            probe_duration(self.audio)  # a recording it cannot read is said now, not after the measurement
            self.ready.set()
            while not self._stop.is_set():
                transcript = pipeline.run(self.audio, AsrOptions(beam_size=self.settings.asr_beam_size))  # who spoke when
                self._before = self.done_s
                for _line in transcript.lines(self._decoded):  # what was said
                    if self._stop.is_set():
                        break
        except BaseException as exc:  # its models missing, the recording unreadable: said, not waited for
            self.failed = exc
            self.ready.set()

    def _decoded(self, seconds: float) -> None:
        self.done_s = self._before + seconds

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=600)


def _utterances(folder: Path) -> list[np.ndarray]:
    table = folder / "transcripts.tsv"
    if not table.is_file():
        return []
    with table.open(encoding="utf-8") as f:
        names = [row["file"] for row in csv.DictReader(f, delimiter="\t")]
    return [read_all(folder / n) for n in names if (folder / n).is_file()]


@dataclass(frozen=True)
class Said:
    """One utterance of the meeting audio: its seat's channel and where its speech ends (seconds)."""

    channel: int
    start: float
    end: float


def speech_end(clip: np.ndarray) -> float:
    """Seconds into ``clip`` (16 kHz) where its speech ends, by Silero VAD (shipped inside
    faster-whisper): judged apart from the captions' own energy end-pointing, which is what is
    measured. (A level rule put VIVOS ends ~0.7 s late: its room tone is 30-40 dB under the peak.)"""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found = get_speech_timestamps(clip, VadOptions(min_silence_duration_ms=100, speech_pad_ms=0))
    return found[-1]["end"] / SAMPLE_RATE if found else len(clip) / SAMPLE_RATE


def meeting_audio(seconds: float, out: Path, room: int = 0) -> tuple[Path, str, list[Said]]:
    """A stereo 48 kHz WAV: seat 1 and seat 2 take turns, 0.8 s apart. Each ``room`` says other
    utterances, after a lead-in of its own: rooms are separate meetings, not one meeting in lockstep
    (every final of every room at the same instant is a worst case no real server sees for long)."""
    a, b = _utterances(TESTDATA / "asr_vi" / "vivos"), _utterances(TESTDATA / "asr_vi" / "fpt")
    source = "VIVOS + FPT Open Speech (../shared/testdata)"
    if not a or not b:
        import subprocess

        source = "espeak-ng (no testdata)"
        clips = []
        for i, text in enumerate(["Kính thưa các đại biểu, tôi xin khai mạc kỳ họp.", "Tôi đồng ý với dự thảo nghị quyết."]):
            p = out.parent / f"tts{i}.wav"
            subprocess.run(["espeak-ng", "-v", "vi", "-w", str(p), text], check=True)
            clips.append(read_all(p))
        a, b = [clips[0]], [clips[1]]
    lead = np.zeros(int(1.3 * room * SAMPLE_RATE), np.float32)
    left, right, n, i = [lead], [lead], len(lead), 0
    said: list[Said] = []
    gap = np.zeros(int(0.8 * SAMPLE_RATE), np.float32)
    while n < seconds * SAMPLE_RATE:
        clips = a if i % 2 == 0 else b
        clip = clips[(7 * room + i // 2) % len(clips)]
        said.append(Said(i % 2, n / SAMPLE_RATE, n / SAMPLE_RATE + speech_end(clip)))
        silent = np.zeros_like(clip)
        left += [clip if i % 2 == 0 else silent, gap]
        right += [silent if i % 2 == 0 else clip, gap]
        n += len(clip) + len(gap)
        i += 1
    stereo = np.stack([np.concatenate(left), np.concatenate(right)], axis=1)
    stereo = np.repeat(stereo, 3, axis=0)  # 16 -> 48 kHz (the interface's rate; the runner resamples back)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((np.clip(stereo, -1, 1) * 32767).astype("<i2").tobytes())
    return out, source, said


def thread_cpu() -> dict[str, float]:
    """CPU seconds per stage, from /proc (Python threads by name; the rest are native pools)."""
    names = {th.native_id: th.name for th in threading.enumerate() if th.native_id}
    out: dict[str, float] = defaultdict(float)
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / tick
        name = names.get(int(task.name), "")
        stage = next(
            (label for prefix, label in STAGES if name.startswith(prefix)), "native threads (CTranslate2/BLAS pools, FFmpeg) + rest"
        )
        out[stage] += cpu
    return out


def run(
    n_rooms: int, seconds: float, cameras: bool, models: Path, audio: list[Path], said: list[list[Said]], final_pass: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "var", models_dir=models, face_workers=0, log_level="warning")
        store = open_store(settings)
        ensure_first_admin(store)
        with store.read() as session:
            admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
        servers: list[MjpegServer] = []
        configs, meeting_ids = [], []
        digest = hash_password(new_password())  # nobody logs in: one unknown password for all
        for r in range(n_rooms):
            ids = [
                members.create_member(
                    store, admin, full_name=f"Đại biểu {r}-{k}", roles=[Role.MEMBER, Role.CHAIR], username=f"db{r}{k}", password_hash=digest
                )  # fmt: skip
                for k in (1, 2)
            ]
            room_id = rooms.create_room(store, admin, name=f"Phòng {r + 1}", location=None, seats=["1", "2"])

            mid = meetings.schedule_meeting(
                store, admin,
                ev.MeetingScheduled(meeting_id=meetings.new_meeting_id(), body_id=_body(store, admin), title=f"Phiên họp {r + 1}",
                                    room_id=room_id, starts_at=datetime.now(UTC) + timedelta(hours=1), chair_id=ids[0]),
                invite_body_members=False,
            )  # fmt: skip
            meetings.add_participant(store, admin, mid, ids[1], role=MeetingRole.MEMBER)
            cams: tuple[CameraConfig, ...] = ()
            if cameras:
                cams = (CameraConfig("cam", _camera(servers, store, admin, ids)),)
            configs.append(
                RoomConfig(
                    room=room_id,
                    microphones=(MicrophoneConfig("ban-hop", file=audio[r], channels=2, sample_rate=48000),),
                    seats=(SeatConfig("1", "ban-hop", 0, f"db{r}1"), SeatConfig("2", "ban-hop", 1, f"db{r}2")),
                    cameras=cams,
                    recording=RecordingConfig(segment_s=5.0),
                )
            )
            meeting_ids.append(mid)
        captions = LiveCaptions(store, settings)
        files = RecordingFiles(settings.recordings_dir, 1 << 34)
        runners = [RoomRunner(store, settings, c, captions, files) for c in configs]
        for mid in meeting_ids:
            meetings.transition(store, admin, mid, MeetingState.OPEN)
            meetings.transition(store, admin, mid, MeetingState.IN_SESSION)
        other = FinalPass(settings, final_pass) if final_pass is not None else None

        def stop_all() -> None:
            for runner in runners:
                runner.stop()
            if other is not None:
                other.stop()
            for s in servers:
                s.stop()
            store.engine.dispose()

        if other is not None:
            other.ready.wait(600)  # its models loaded before the rooms start, as on a server that has run one
            if other.failed is not None or not other.ready.is_set():
                stop_all()
                raise SystemExit(f"the final pass could not start: {other.failed or 'its models did not load within 600 s'}")
        for runner in runners:
            runner.start()
        while any(r.live_meeting is None for r in runners):
            time.sleep(0.1)
        cpu0, wall0, proc0, begun = thread_cpu(), time.monotonic(), os.times(), time.time()
        passed0 = other.done_s if other is not None else 0.0
        while time.monotonic() - wall0 < seconds and (other is None or other.failed is None):
            time.sleep(min(0.5, max(0.0, seconds - (time.monotonic() - wall0))))
        cpu1, wall, proc1 = thread_cpu(), time.monotonic() - wall0, os.times()
        passed = (other.done_s - passed0) if other is not None else None
        if other is not None and other.failed is not None:  # the rooms' figures were not measured beside a final pass
            stop_all()
            raise SystemExit(f"the final pass failed during the measurement: {other.failed}")
        dropped = sum(w.dropped_s for m in captions._meetings.values() for w in m.workers.values())
        decoder = getattr(captions, "_decoder", None)  # the decoder every stream shares (none before it existed)
        decoded = dict(decoder.decoded) if decoder is not None else {}
        final_times = list(getattr(decoder, "final_times", []))  # (none before they were kept)
        t0 = {r.live_meeting: r._live.t0 for r in runners if r._live}
        # the wall-clock time of second 0 of each room's file (its pass began a little later)
        file0 = {mid: getattr(runner._mics[0], "wall0", None) or t0[mid] for mid, runner in zip(meeting_ids, runners, strict=True)}
        for mid in meeting_ids:
            meetings.transition(store, admin, mid, MeetingState.CLOSED)
        for runner in runners:
            runner.poke()
        deadline = time.monotonic() + 300
        while any(r.live_meeting for r in runners) and time.monotonic() < deadline:
            time.sleep(0.2)
        # each utterance said within the measure (on its room's file clock): from the end of its speech to
        # its last line committed
        window = {meeting_ids.index(mid): (begun - at0, begun - at0 + seconds) for mid, at0 in file0.items()}
        for room, (_, end) in window.items():  # the audio is seconds + 30 long: a slow start eats into it
            with wave.open(str(audio[room]), "rb") as w:
                length = w.getnframes() / w.getframerate()
            if end > length:
                print(f"# WARNING room {room + 1}: the measure ran {end - length:.1f} s past its audio (a start-up of "
                      f"{window[room][0]:.1f} s); utterances after the audio's end were not counted")  # fmt: skip

        def within(room: int, u: Said) -> bool:
            return window[room][0] <= u.start and u.end <= window[room][1]

        last: dict[tuple[int, int], float] = {}
        for e in store.events(type_prefix="transcript.segment"):
            start = t0.get(e.data["meeting_id"])
            if start is None:
                continue
            mid = e.data["meeting_id"]
            shift = start - file0[mid]  # pass seconds -> file seconds
            room, middle = meeting_ids.index(mid), shift + (e.data["start"] + e.data["end"]) / 2
            k = next((k for k, u in enumerate(said[room]) if u.channel == e.data["channel"] and u.start <= middle <= u.end + 1.0), None)
            if k is not None and within(room, said[room][k]):
                at = datetime.fromisoformat(e.occurred_at).timestamp() - file0[mid]
                last[room, k] = max(last.get((room, k), 0.0), at - said[room][k].end)
        delays = list(last.values())
        each = sorted(
            (room, k, u, last.get((room, k))) for room in range(n_rooms) for k, u in enumerate(said[room]) if within(room, u)
        )  # fmt: skip
        missed = sum(1 for room in range(n_rooms) for k, u in enumerate(said[room]) if within(room, u) and (room, k) not in last)
        stop_all()
    cores = os.cpu_count() or 1
    stages = {k: (cpu1.get(k, 0.0) - cpu0.get(k, 0.0)) / wall / cores for k in set(cpu1) | set(cpu0)}
    total = ((proc1.user + proc1.system) - (proc0.user + proc0.system)) / wall / cores
    delays.sort()
    return {
        "rooms": n_rooms, "wall": wall, "stages": stages, "total": total, "delays": delays, "missed": missed,
        "dropped_s": dropped, "decoded": decoded, "final_times": final_times, "each": each, "final_pass_s": passed,
    }  # fmt: skip


_BODY: dict[int, str] = {}


def _body(store: Store, admin: Actor) -> str:
    from meeting_room.services import bodies

    if id(store) not in _BODY:
        _BODY[id(store)] = bodies.create_body(store, admin, name="HĐND (đo)", short_name="HĐND")
    return _BODY[id(store)]


def _camera(servers: list[MjpegServer], store: Store, admin: Actor, ids: list[str]) -> str:
    """An MJPEG camera showing two faces from ../shared/testdata/faces, enrolled for the room's two members."""
    from hardware.mjpeg import _jpeg
    from meeting_room.services import faces as face_service
    from vision.enrolment import EnrolmentRules
    from vision.faces import FaceEngine, FaceOptions

    labels = TESTDATA / "faces" / "labels.csv"
    with labels.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "identity"]
    people: dict[str, list[Path]] = defaultdict(list)
    for r in rows:
        people[r["identity"]].append(TESTDATA / "faces" / r["file"])
    chosen = [v for v in people.values() if len(v) >= 2][:2]
    engine = FaceEngine(FaceOptions())
    for member_id, photos in zip(ids, chosen, strict=True):
        face_service.set_consent(store, admin, member_id, True)
        face_service.enrol_faces(store, admin, member_id, [(photos[0].name, photos[0].read_bytes())], engine, EnrolmentRules())
    from PIL import Image

    tiles = [np.asarray(Image.open(p[1]).convert("RGB").resize((480, 480))) for p in chosen]
    server = MjpegServer([_jpeg(np.concatenate(tiles, axis=1))], fps=10).start()
    servers.append(server)
    return server.url


def _share(ordered: list[float], p: float) -> float:
    """The value below which a share ``p`` of the ``ordered`` values lie."""
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", default="1,2,3", help="room counts to try, comma-separated")
    parser.add_argument("--seconds", type=float, default=120.0, help="meeting time per run")
    parser.add_argument("--cameras", action="store_true", help="one MJPEG camera with two enrolled faces per room")
    parser.add_argument("--models-dir", type=Path, default=Path(tempfile.gettempdir()) / "meeting-room-bench-models")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: one room for 15 s")
    parser.add_argument("--each", action="store_true", help="also print each utterance: room, seat, length of speech, delay")
    parser.add_argument("--final-pass", action="store_true", help="another meeting's final pass runs beside the rooms all the time")
    args = parser.parse_args()
    if args.smoke:
        args.rooms, args.seconds = "1", 15.0
    counts = [int(x) for x in args.rooms.split(",")]
    if len(counts) > 1:  # each count in a process of its own, as a server starts: no run inherits the last one's threads
        # (a second set of rooms in the same process, with a second shared decoder on the same model, stalled: seen
        # on 2026-11-30, 1 decode batch in 30 s and a crash at exit; one server has one decoder)
        argv = sys.argv[1:]
        rest = [a for i, a in enumerate(argv) if not a.startswith("--rooms") and (i == 0 or argv[i - 1] != "--rooms")]
        for n in counts:
            subprocess.run([sys.executable, __file__, *rest, "--rooms", str(n)], check=True)
        return
    from speech.models import ModelStore

    models = args.models_dir
    ModelStore(models).ensure_default()
    with tempfile.TemporaryDirectory() as tmp:
        made = [meeting_audio(args.seconds + 30, Path(tmp) / f"meeting{r}.wav", r) for r in range(max(counts) + args.final_pass)]
        audio, source, said = [m[0] for m in made], made[0][1], [m[2] for m in made]
        print(f"# room_live: {os.cpu_count()} cores, meeting audio from {source}, {args.seconds:.0f} s per run, "
              f"cameras {'on' if args.cameras else 'off'}, "
              f"another meeting's final pass {'beside them' if args.final_pass else 'none'}")  # fmt: skip
        for n in counts:
            r = run(n, args.seconds, args.cameras, models, audio, said, audio[-1] if args.final_pass else None)
            d: list[float] = r["delays"]
            median = statistics.median(d) if d else float("nan")
            p90 = _share(d, 0.9) if d else float("nan")
            print(f"\n## {n} room(s): process CPU {r['total']:.0%} of {os.cpu_count()} cores; utterances captioned {len(d)} "
                  f"(none for {r['missed']}), "
                  f"delay median {median:.2f} s, p90 {p90:.2f} s, max {max(d) if d else float('nan'):.2f} s; "
                  f"captions dropped {r['dropped_s']:.1f} s of audio")  # fmt: skip
            if r["final_pass_s"] is not None:  # the final pass's own audio (the last file; its diarization's time not counted)
                print(f"  the final pass beside them: {r['final_pass_s']:.1f} s of audio decoded in the {r['wall']:.0f} s measured")
            if r["decoded"]:
                print(f"  shared decoder (at the measure's end): {r['decoded']}")
            if r["final_times"]:
                waits, spans = (sorted(x) for x in zip(*r["final_times"], strict=True))
                print(f"  a final: waiting for the decoder median {_share(waits, 0.5):.2f} s, p90 {_share(waits, 0.9):.2f} s; "
                      f"decoding (its batch so far) median {_share(spans, 0.5):.2f} s, p90 {_share(spans, 0.9):.2f} s")  # fmt: skip
            if args.each:
                for room, k, u, delay in r["each"]:
                    shown = "no line (nothing decoded, or the guard's verdict)" if delay is None else f"delay {delay:5.2f} s"
                    where = f"room {room + 1} utterance {k:3d} seat {u.channel + 1} at {u.start:6.2f} s"
                    print(f"  {where}: speech ends after {u.end - u.start:5.2f} s, {shown}")
            for stage, share in sorted(r["stages"].items(), key=lambda kv: -kv[1]):
                if share >= 0.001:
                    print(f"  {share:6.1%}  {stage}")


if __name__ == "__main__":
    main()

"""Final passes through the job queue in PostgreSQL: 8 jobs with 1, then 2 worker processes
(``meeting-room worker``) on this machine; figures per worker.

    .venv/bin/python benchmarks/transcription_jobs.py [--jobs 8] [--seconds 30] [--workers 1 2]
        [--models-dir DIR] [--database-url URL] [--smoke]

Each job is a real final pass (pyannote diarization, then Whisper base, every line written through
the store) of a recording made of real Vietnamese speech: VIVOS utterances from
../shared/testdata/asr_vi/vivos (read there, never copied), strung together to ``--seconds`` of audio
per job; without that folder, espeak-ng's Vietnamese voice (robotic but speech). A one-hour meeting
is scaled from these shorter jobs: the work of a pass grows with its audio (diarization and
decoding are both linear in time, in windows of seconds), so "one-hour meetings per hour" is the
audio-seconds transcribed per second of wall time. The first job of each worker includes loading
the models (seconds, once per worker process): the "steady" figure leaves it out.

PostgreSQL: --database-url, or a throwaway local server (Debian package postgresql).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")

from meeting_room.db import tables as t  # noqa: E402
from meeting_room.files.recordings import RecordingFiles  # noqa: E402
from meeting_room.live.job_queue import JobQueue, JobSpec  # noqa: E402
from meeting_room.server import open_store  # noqa: E402
from meeting_room.services import recordings, transcripts  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402
from speech.audio import SAMPLE_RATE, read_all  # noqa: E402
from tests.conftest import make_world  # noqa: E402
from tests.pgcluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402
from tests.queue_workers import Worker, live_workers, wait_for  # noqa: E402
from tests.speech_audio import speak, write_wav  # noqa: E402

VIVOS = ROOT.parent / "shared" / "testdata" / "asr_vi" / "vivos" / "audio"
LASTED = re.compile(r"final_pass\[\d+\]\(.*?pass_id='([0-9a-f-]+)'.*ended with status: (\w+), lasted ([\d.]+) s")


def _speech(folder: Path, jobs: int, seconds: float) -> tuple[list[Path], str]:
    """``jobs`` WAV files of ``seconds`` of real speech each (different utterances where there are enough)."""
    if VIVOS.is_dir() and any(VIVOS.glob("*.wav")):
        clips, source = [read_all(p) for p in sorted(VIVOS.glob("*.wav"))], f"VIVOS ({VIVOS})"
    else:
        text = ["Kính thưa các đại biểu, kỳ họp thứ năm xin phép bắt đầu.", "Đề nghị các đại biểu cho ý kiến về dự thảo nghị quyết."]
        clips = [read_all(speak(folder / f"say{i}.wav", s)) for i, s in enumerate(text)]
        source = "espeak-ng (../shared/testdata absent)"
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    files, k = [], 0
    for j in range(jobs):
        parts: list[np.ndarray] = []
        while sum(len(p) for p in parts) < seconds * SAMPLE_RATE:
            parts += [clips[k % len(clips)], gap]
            k += 1
        files.append(write_wav(folder / f"job{j}.wav", np.concatenate(parts)[: int(seconds * SAMPLE_RATE)]))
    return files, source


def _round(database_url: str, folder: Path, models_dir: Path, files: list[Path], workers: int) -> dict[str, float]:
    options = {"data_dir": str(folder / "var"), "database_url": database_url, "models_dir": str(models_dir),
               "max_recording_mb": 2048, "worker_heartbeat_s": 2.0, "worker_stalled_s": 30.0}  # fmt: skip
    folder.mkdir(parents=True)
    config = folder / "meeting-room.toml"
    config.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items()))
    settings = load_settings(config)
    store = open_store(settings)
    world = make_world(store)
    stored = RecordingFiles(settings.recordings_dir, 1 << 31)
    specs, audio_s = [], 0.0
    for path in files:
        with path.open("rb") as fh:
            rec = stored.ingest(fh)
        audio_s += rec.duration_s
        recording_id = recordings.add_recording(store, stored, None, world.meeting_id, rec, path.name)
        pass_id = transcripts.new_pass(store, world.meeting_id, "final", settings.asr_model, recording_id=recording_id,
                                       diarization=settings.diarization_pipeline)  # fmt: skip
        specs.append(JobSpec(world.meeting_id, pass_id, recording_id))
    procs = [Worker(config, folder / f"worker-{i}.log", f"w{i}") for i in range(workers)]
    queue = JobQueue(settings)
    try:
        wait_for(lambda: live_workers(settings.effective_database_url, 30) >= workers, 300, f"{workers} workers")
        start = time.time()
        for spec in specs:  # all at once, as when a province's rooms close their sessions together
            queue.defer_final_pass(spec)

        def ended() -> bool:
            with store.read() as session:
                return all(session.get_one(t.TranscriptPass, s.pass_id).state != "running" for s in specs)

        wait_for(lambda: ended() or not any(p.alive() for p in procs), 24 * 3600, "every job", every=1.0)
        wall = time.time() - start
        with store.read() as session:
            states = [session.get_one(t.TranscriptPass, s.pass_id).state for s in specs]
        steady: list[float] = []  # audio-seconds per second of each worker's jobs after its first (models loaded)
        per_worker = []
        durations = {s.pass_id: 0.0 for s in specs}
        with store.read() as session:
            for s in specs:
                durations[s.pass_id] = session.get_one(t.Recording, s.recording_id).duration_s
        for proc in procs:
            runs = [(m.group(1), float(m.group(3))) for m in LASTED.finditer(proc.output())]
            per_worker.append(len(runs))
            steady += [durations[p] / lasted for p, lasted in runs[1:] if lasted > 0]
    finally:
        for proc in procs:
            proc.stop()
        queue.close()
        store.engine.dispose()
    rate = audio_s / wall
    print(f"workers={workers}: {len(specs)} jobs, {audio_s:.0f} s of audio in {wall:.1f} s; completed {states.count('completed')}"
          f"/{len(specs)}; jobs per worker {per_worker}")  # fmt: skip
    print(f"workers={workers}: {rate:.3f} audio-s/s in all, {rate / workers:.3f} audio-s/s per worker; "
          f"{3600 * len(specs) / wall:.1f} jobs/hour ({3600 * len(specs) / wall / workers:.1f} per worker); "
          f"one-hour meetings per hour: {rate:.2f}")  # fmt: skip
    if steady:
        print(f"workers={workers}: steady (models loaded) median {statistics.median(steady):.3f} audio-s/s per job")
    return {"rate": rate, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="Audio per job (scaled to one hour, see above).")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--database-url", help="An empty PostgreSQL database per round is made on a throwaway server otherwise.")
    parser.add_argument("--smoke", action="store_true", help="2 jobs of 4 s, 1 worker: does it run.")
    args = parser.parse_args()
    if args.smoke:
        args.jobs, args.seconds, args.workers = 2, 4.0, [1]
    if args.database_url and len(args.workers) > 1:
        parser.error("--database-url is one empty database: give one --workers count with it")
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    work = Path(tempfile.mkdtemp(prefix="transcription-jobs-"))
    cluster = None
    try:
        models_dir = args.models_dir or work / "models"
        if args.models_dir is None:
            from speech.models import ModelStore

            ModelStore(models_dir).ensure_default()
        files, source = _speech(work, args.jobs, args.seconds)
        print(f"audio: {args.jobs} jobs x {args.seconds:.0f} s of {source}; one hour = {3600 / args.seconds:.0f} such jobs")
        if args.database_url is None:
            cluster = ThrowawayCluster()
            try:
                cluster.start()
            except ClusterUnavailable as exc:
                sys.exit(f"no PostgreSQL: {exc}")
        results = {}
        for n in args.workers:
            url = args.database_url if cluster is None else cluster.new_database()
            results[n] = _round(url, work / f"round-{n}", models_dir, files, n)
        if len(results) > 1:
            one = results[min(results)]["rate"]
            print("speed-up: " + ", ".join(f"{n} workers x{r['rate'] / one:.2f}" for n, r in sorted(results.items())))
        print(f"after the runs: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

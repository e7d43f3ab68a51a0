"""Speed and memory of the speech models, and live caption delay, on this machine's CPU.

    .venv/bin/python benchmarks/speech_models.py [--models-dir var/models] [--streams 1,2,3] [--seconds 60] [--smoke]

1. Batch: real-time factor and peak memory (each in a fresh process) of Whisper (every installed
   model, int8), the diarization pipeline and the CAM++ voiceprint, on real speech
   (../shared/testdata/asr_vi/vivos utterances joined with pauses; espeak-ng speech when absent).
2. Live: the same audio replayed at real-time pace into N live caption streams at once (one per
   thread, as a server runs them); for each final caption, the delay from the end of the speech
   (known from how the audio was put together) to the caption. A server "sustains" N streams
   when the delay stays bounded (p95 well under the pause length plus the utterance length).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from hardware.media import SAMPLE_RATE, AudioChunk, read_all  # noqa: E402

VIVOS = ROOT.parent / "shared" / "testdata" / "asr_vi" / "vivos"


def test_audio(seconds: float) -> tuple[np.ndarray, list[float]]:
    """Real Vietnamese speech with 1.2 s pauses, and where each utterance ends."""
    clips = [read_all(p) for p in sorted(VIVOS.rglob("*.wav"))] if VIVOS.is_dir() else []
    if not clips:
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "s.wav"
            text = "Kính thưa các đại biểu, hôm nay chúng ta họp về ngân sách."
            subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), text], check=True)
            clips = [read_all(wav)]
    pause = np.zeros(int(1.2 * SAMPLE_RATE), np.float32)
    parts, ends, t, i = [pause], [], len(pause) / SAMPLE_RATE, 0
    while t < seconds:
        clip = clips[i % len(clips)]
        parts += [clip, pause]
        t += len(clip) / SAMPLE_RATE
        ends.append(t)
        t += len(pause) / SAMPLE_RATE
        i += 1
    return np.concatenate(parts), ends


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(kind: str, target: str, seconds: float) -> dict[str, object]:
    """Run in a child process: load, then process the audio once; time and peak memory."""
    audio, _ends = test_audio(seconds)
    base = _peak_mb()
    t0 = time.perf_counter()
    if kind == "whisper":
        from speech.asr import AsrOptions, Transcriber

        transcriber = Transcriber(Path(target))
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        n = sum(1 for _ in transcriber.transcribe_array(audio, AsrOptions()))
        detail = f"{n} segments, beam 5 + fallback + VAD"
    elif kind == "diarization":
        from speech.diarization import Diarizer

        diarizer = Diarizer(Path(target))
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        detail = f"{len(diarizer.diarize_array(audio).speakers)} speakers"
    else:
        from speech.voiceprint import VoiceEncoder

        encoder = VoiceEncoder(Path(target))
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        encoder.embed(audio)
        detail = "one embedding of the whole audio"
    spent = time.perf_counter() - t1
    duration = len(audio) / SAMPLE_RATE
    return {"kind": kind, "model": Path(target).name, "audio_s": round(duration, 1), "load_s": round(load, 1),
            "rtf": round(spent / duration, 3), "peak_mb": round(_peak_mb(), 0), "before_mb": round(base, 0), "detail": detail}  # fmt: skip


def live_delays(models_dir: Path, streams: int, seconds: float) -> dict[str, object]:
    from speech.asr import Transcriber
    from speech.live import LiveStream
    from speech.models import ModelStore

    transcriber = Transcriber(ModelStore(models_dir).resolve(None))
    audio, ends = test_audio(seconds)
    delays: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.5

    def run(index: int) -> None:
        stream = LiveStream(transcriber, f"s{index}")
        step = SAMPLE_RATE // 10
        for i in range(0, len(audio), step):
            chunk = AudioChunk(audio[i : i + step], i / SAMPLE_RATE, f"s{index}")
            wait = start + chunk.end - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            for caption in stream.feed(chunk):
                if caption.final and caption.text:
                    now = time.monotonic()
                    spoken = [e for e in ends if caption.start - 0.5 <= e <= caption.end + 0.5]
                    if spoken:
                        with lock:
                            delays.append(now - (start + spoken[-1]))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    delays.sort()
    lag_end = time.monotonic() - (start + len(audio) / SAMPLE_RATE)
    return {
        "streams": streams,
        "captions": len(delays),
        "p50_s": round(statistics.median(delays), 2) if delays else None,
        "p95_s": round(delays[int(0.95 * (len(delays) - 1))], 2) if delays else None,
        "max_s": round(delays[-1], 2) if delays else None,
        "behind_at_end_s": round(max(0.0, lag_end), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=ROOT / "var" / "models")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--streams", default="1,2,3")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="a check that it runs: 20 s of audio, one Whisper model, one stream")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.streams = 20.0, "1"  # a few utterances, so that the live stream finishes some
    if args.child:
        print(json.dumps(measure_one(args.child[0], args.child[1], float(args.child[2]))))
        return
    from speech.models import ModelStore

    store = ModelStore(args.models_dir)
    store.ensure_default()
    pipeline = store.resolve_diarization()
    targets = [("whisper", str(m.path)) for m in store.list() if m.kind == "whisper-ct2"][: 1 if args.smoke else None]
    targets += [("diarization", str(pipeline)), ("voiceprint", str(pipeline / "embedding"))]
    source = "VIVOS utterances" if any(VIVOS.rglob("*.wav")) else "espeak-ng speech"
    print(f"Speech benchmark: {os.cpu_count()} cores, {args.seconds:.0f} s of {source} with 1.2 s pauses")
    for kind, target in targets:
        out = subprocess.run([sys.executable, __file__, "--child", kind, target, str(args.seconds)], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"  {kind} {target}: failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {r['kind']:<11} {r['model']:<24} RTF {r['rtf']:.3f}  load {r['load_s']} s  "
              f"peak RSS {r['peak_mb']:.0f} MB  ({r['detail']})")  # fmt: skip
    for n in [int(x) for x in args.streams.split(",") if x]:
        r = live_delays(args.models_dir, n, args.seconds)
        print(
            f"  live x{n}: {r['captions']} final captions, end of speech -> caption p50 {r['p50_s']} s, p95 {r['p95_s']} s, "
            f"max {r['max_s']} s; behind real time at the end: {r['behind_at_end_s']} s"
        )


if __name__ == "__main__":
    main()

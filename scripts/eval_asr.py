"""Word and character error rates on Vietnamese speech with transcripts.

    .venv/bin/python scripts/eval_asr.py [--data DIR ...] [--model NAME|PATH] [--beam N] [--greedy]
    .venv/bin/python scripts/eval_asr.py --live [--streams N] [--own-decoders]   # the live captions' path

``--live`` scores what the live captions commit: each utterance, between 0.5 s of room tone and
1 s of silence, is streamed in 100 ms chunks (faster than real time) through ``speech.live``
(its end-pointing, its options, its final decode); ``--streams N`` runs N utterances side by side
through one shared ``LiveDecoder`` (as N live sources do), ``--own-decoders`` decodes each stream
on its own thread instead (the path before the shared decoder).

A data folder is laid out like ../shared/testdata/asr_vi/vivos: ``transcripts.tsv`` (tab-separated,
header ``file transcript speaker``) and the audio files it names. Without --data, the shared sets
(vivos, fpt) are used. Scoring as in ../shared/testdata/README.md: lower case, Unicode NFC,
punctuation removed, whitespace collapsed (FPT's "-N" noise marks removed); jiwer.
Prints per-set figures, a few worst utterances, and as its LAST line exactly:
WER=0.xxxx CER=0.xxxx n=N audio_s=S rtf=R   (over every utterance of every set)
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from hardware.media import SAMPLE_RATE, AudioChunk, read_all  # noqa: E402
from speech.asr import AsrOptions, Transcriber  # noqa: E402
from speech.live import LiveDecoder, LiveOptions, LiveStream  # noqa: E402
from speech.models import ModelStore  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "asr_vi"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"(?<!\w)-\d+(?!\w)", " ", text)  # FPT noise marks such as "-1"
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def main() -> None:
    import jiwer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", help="folders with transcripts.tsv (default: the shared vivos and fpt)")
    parser.add_argument("--model", default=None, help="a registered model name or a CTranslate2 model directory (default: whisper-base)")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--greedy", action="store_true", help="beam 1, no temperature fallback (fastest)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="at most this many utterances per set")
    parser.add_argument("--live", action="store_true", help="score the live captions' path (end-pointing + live decode)")
    parser.add_argument("--streams", type=int, default=4, help="--live: utterances streamed side by side")
    parser.add_argument("--own-decoders", action="store_true", help="--live: no shared decoder (each stream decodes alone)")
    args = parser.parse_args()
    sets = args.data or [p for p in (SHARED / "vivos", SHARED / "fpt") if (p / "transcripts.tsv").exists()]
    if not sets:
        raise SystemExit("no data: give --data DIR (a folder with transcripts.tsv and audio)")
    model_dir = ModelStore(args.models_dir).resolve(args.model)
    t0 = time.perf_counter()
    transcriber = Transcriber(model_dir, cpu_threads=args.threads)
    load_s = time.perf_counter() - t0
    if args.live:
        return live(transcriber, sets, args.limit, args.streams, not args.own_decoders, load_s)
    options = AsrOptions(beam_size=1 if args.greedy else args.beam, temperature_fallback=not args.greedy)
    print(f"ASR evaluation: {os.cpu_count()} cores, model {model_dir.name} (loaded in {load_s:.1f} s), "
          f"beam {options.beam_size}, fallback {options.temperature_fallback}, VAD on, language vi")  # fmt: skip
    all_refs, all_hyps, total_audio, total_time = [], [], 0.0, 0.0
    for folder in sets:
        rows = list(csv.DictReader((folder / "transcripts.tsv").open(encoding="utf-8"), delimiter="\t"))[: args.limit]
        refs, hyps, audio_s, spent, worst = [], [], 0.0, 0.0, []
        for row in rows:
            audio = read_all(folder / row["file"])
            start = time.perf_counter()
            hyp = " ".join(s.text for s in transcriber.transcribe_array(audio, options))
            spent += time.perf_counter() - start
            audio_s += len(audio) / SAMPLE_RATE
            ref_n, hyp_n = normalise(row["transcript"]), normalise(hyp)
            refs.append(ref_n)
            hyps.append(hyp_n)
            worst.append((jiwer.wer(ref_n, hyp_n) if ref_n else 0.0, row["file"], ref_n, hyp_n))
        wer, cer = jiwer.wer(refs, hyps), jiwer.cer(refs, hyps)
        print(f"{folder.name}: WER {wer:.4f} CER {cer:.4f} n={len(rows)} audio {audio_s:.0f} s RTF {spent / audio_s:.3f}")
        for w, name, ref, hyp in sorted(worst, reverse=True)[:3]:
            print(f"  worst {w:.2f} {name}\n    ref: {ref}\n    hyp: {hyp}")
        all_refs += refs
        all_hyps += hyps
        total_audio += audio_s
        total_time += spent
    wer, cer = jiwer.wer(all_refs, all_hyps), jiwer.cer(all_refs, all_hyps)
    print(f"WER={wer:.4f} CER={cer:.4f} n={len(all_refs)} audio_s={total_audio:.1f} rtf={total_time / total_audio:.4f}")


def _stream(transcriber: Transcriber, decoder: LiveDecoder | None, key: str, audio: np.ndarray) -> str:
    """The final captions of one utterance streamed through the live path, joined."""
    stream = LiveStream(transcriber, key, LiveOptions(), decoder=decoder)
    tone = (np.random.default_rng(len(audio)).standard_normal(SAMPLE_RATE // 2) * 1e-3).astype(np.float32)
    padded = np.concatenate([tone, audio, np.zeros(SAMPLE_RATE, np.float32)])
    step, finals = SAMPLE_RATE // 10, []
    for i in range(0, len(padded), step):
        finals += [c.text for c in stream.feed(AudioChunk(padded[i : i + step], i / SAMPLE_RATE, key)) if c.final]
    finals += [c.text for c in stream.flush() if c.final]
    return " ".join(finals)


def live(transcriber: Transcriber, sets: list[Path], limit: int | None, streams: int, shared: bool, load_s: float) -> None:
    import jiwer

    decoder = LiveDecoder(transcriber) if shared else None
    print(f"ASR evaluation of the live path: {os.cpu_count()} cores, model {transcriber.model_dir.name} (loaded in {load_s:.1f} s), "
          f"{streams} streams side by side, {'one shared decoder' if shared else 'each stream decoding alone'}")  # fmt: skip
    rows = [
        (folder, row)
        for folder in sets
        for row in list(csv.DictReader((folder / "transcripts.tsv").open(encoding="utf-8"), delimiter="\t"))[:limit]
    ]
    audios = [read_all(folder / row["file"]) for folder, row in rows]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=streams) as pool:
        hyps = list(pool.map(lambda k: _stream(transcriber, decoder, f"s{k % streams}-{k}", audios[k]), range(len(rows))))
    spent = time.perf_counter() - start
    refs = [normalise(row["transcript"]) for _, row in rows]
    hyps = [normalise(h) for h in hyps]
    for folder in sets:
        pick = [i for i, (f, _) in enumerate(rows) if f == folder]
        if pick:
            print(f"{folder.name}: WER {jiwer.wer([refs[i] for i in pick], [hyps[i] for i in pick]):.4f} "
                  f"CER {jiwer.cer([refs[i] for i in pick], [hyps[i] for i in pick]):.4f} n={len(pick)}")  # fmt: skip
    if decoder is not None:
        print(f"decoder: {decoder.decoded}")
    audio_s = sum(len(a) for a in audios) / SAMPLE_RATE
    print(f"WER={jiwer.wer(refs, hyps):.4f} CER={jiwer.cer(refs, hyps):.4f} n={len(refs)} audio_s={audio_s:.1f} rtf={spent / audio_s:.4f}")


if __name__ == "__main__":
    main()

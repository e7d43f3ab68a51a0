"""Word and character error rates on Vietnamese speech with transcripts.

    .venv/bin/python scripts/eval_asr.py [--data DIR ...] [--model NAME|PATH] [--beam N] [--greedy]

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.media import SAMPLE_RATE, read_all  # noqa: E402
from speech.asr import AsrOptions, Transcriber  # noqa: E402
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
    args = parser.parse_args()
    sets = args.data or [p for p in (SHARED / "vivos", SHARED / "fpt") if (p / "transcripts.tsv").exists()]
    if not sets:
        raise SystemExit("no data: give --data DIR (a folder with transcripts.tsv and audio)")
    model_dir = ModelStore(args.models_dir).resolve(args.model)
    t0 = time.perf_counter()
    transcriber = Transcriber(model_dir, cpu_threads=args.threads)
    load_s = time.perf_counter() - t0
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


if __name__ == "__main__":
    main()

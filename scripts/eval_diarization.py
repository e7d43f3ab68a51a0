"""Diarization error rate on recordings with reference RTTM, and speaker-attributed WER on an STM.

    .venv/bin/python scripts/eval_diarization.py [--data DIR] [--pipeline NAME|PATH] [--oracle-speakers]
                                                 [--threshold T] [--stm FILE.stm] [--stm-language en]

A data folder is laid out like ../shared/testdata/diarization/ami: audio files named after the
RTTM uris (``<uri>.wav``), ``reference.rttm`` and optionally ``reference.uem`` (the scored region).
Scoring as in ../shared/testdata/README.md: pyannote.metrics DiarizationErrorRate, collar 0,
overlap scored, over the UEM. With --stm (default: the shared sample.stm, if present) the audio
beside it is transcribed with Whisper and diarized, and the concatenated minimum-permutation WER
(cpWER: each reference speaker's words against the hypothesis speaker mapped to them) is printed.
The LAST line is exactly: DER=0.xxxx files=N
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.media import SAMPLE_RATE, read_all  # noqa: E402
from speech.diarization import DiarizationOptions, Diarizer  # noqa: E402
from speech.models import DEFAULT_CLUSTERING, ModelStore  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "diarization"


def _audio_for(folder: Path, uri: str) -> Path | None:
    for ext in (".wav", ".flac", ".mp3", ".ogg", ".m4a"):
        if (folder / f"{uri}{ext}").is_file():
            return folder / f"{uri}{ext}"
    return None


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def _edits(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def cp_wer(ref: dict[str, list[str]], hyp: dict[str, list[str]]) -> tuple[float, dict[str, str | None]]:
    """Concatenated minimum-permutation WER and the speaker mapping it used."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    refs, hyps = sorted(ref), sorted(hyp)
    n = max(len(refs), len(hyps))
    cost = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            r = ref[refs[i]] if i < len(refs) else []
            h = hyp[hyps[j]] if j < len(hyps) else []
            cost[i, j] = _edits(r, h)
    rows, cols = linear_sum_assignment(cost)
    total = sum(len(w) for w in ref.values())
    mapping = {refs[i]: (hyps[j] if j < len(hyps) else None) for i, j in zip(rows, cols, strict=True) if i < len(refs)}
    return float(cost[rows, cols].sum()) / max(total, 1), mapping


def evaluate_stm(stm: Path, diarizer: Diarizer, models: ModelStore, language: str, model: str | None) -> None:
    from speech.asr import AsrOptions, Transcriber
    from speech.speakers import attribute

    uri = stm.stem
    audio_path = _audio_for(stm.parent, uri)
    if audio_path is None:
        print(f"{stm}: no audio beside it, skipped")
        return
    ref: dict[str, list[str]] = {}
    timed: list[tuple[float, list[str]]] = []
    for line in stm.read_text(encoding="utf-8").splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and not line.startswith(";;"):
            ref.setdefault(parts[2], []).extend(_words(parts[5]))
            timed.append((float(parts[3]), _words(parts[5])))
    audio = read_all(audio_path)
    t0 = time.perf_counter()
    result = diarizer.diarize_array(audio)
    transcriber = Transcriber(models.resolve(model))
    segments = list(transcriber.transcribe_array(audio, AsrOptions(language=language)))
    spent = time.perf_counter() - t0
    hyp: dict[str, list[str]] = {}
    for seg, cluster in attribute(segments, result):
        hyp.setdefault(cluster or "?", []).extend(_words(seg.text))
    ref_words = [w for _t, words in sorted(timed, key=lambda x: x[0]) for w in words]
    pooled = _edits(ref_words, [w for s in segments for w in _words(s.text)]) / max(1, len(ref_words))
    score, mapping = cp_wer(ref, hyp)
    print(
        f"{stm.name}: cpWER {score:.4f} (speaker-attributed; plain WER {pooled:.4f}), "
        f"{len(ref)} reference / {len(hyp)} found speakers, mapping {mapping}, RTF {spent / (len(audio) / SAMPLE_RATE):.3f}"
    )


def main() -> None:
    warnings.filterwarnings("ignore", category=UserWarning)
    from pyannote.core import Annotation, Segment
    from pyannote.database.util import load_rttm, load_uem
    from pyannote.metrics.diarization import DiarizationErrorRate

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED / "ami", help="folder with audio + reference.rttm [+ reference.uem]")
    parser.add_argument("--pipeline", default=None, help="a registered pipeline name or a pyannote pipeline directory")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--oracle-speakers", action="store_true", help="tell the pipeline the true number of speakers")
    parser.add_argument("--threshold", type=float, default=None, help="clustering threshold (default: the pipeline's)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--stm", type=Path, default=SHARED / "sample" / "sample.stm", help="speaker-attributed transcript to score")
    parser.add_argument("--stm-language", default="en", help="language of the STM audio (the shared sample is English)")
    parser.add_argument("--stm-model", default=None, help="Whisper model for the STM check (default whisper-base)")
    args = parser.parse_args()
    rttm = args.data / "reference.rttm"
    if not rttm.is_file():
        raise SystemExit(f"no data: {rttm} does not exist (give --data DIR with audio and reference.rttm)")
    models = ModelStore(args.models_dir)
    folder = models.resolve_diarization(args.pipeline)
    t0 = time.perf_counter()
    diarizer = Diarizer(folder, threads=args.threads)
    load_s = time.perf_counter() - t0
    if args.threshold is not None:
        diarizer.pipeline.instantiate(
            {"segmentation": {"min_duration_off": 0.0}, "clustering": {**DEFAULT_CLUSTERING, "threshold": args.threshold}}
        )
    print(
        f"Diarization evaluation: {os.cpu_count()} cores, pipeline {folder.name} (loaded in {load_s:.1f} s), "
        f"clustering {dict(diarizer.pipeline.parameters(instantiated=True).get('clustering', {}))}, oracle speakers {args.oracle_speakers}"
    )
    references = load_rttm(rttm)  # type: ignore[no-untyped-call]  # pyannote.database leaves its loaders unannotated
    uem = args.data / "reference.uem"
    uems = load_uem(uem) if uem.is_file() else {}  # type: ignore[no-untyped-call]
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    files, audio_s, spent = 0, 0.0, 0.0
    for uri in sorted(references):
        path = _audio_for(args.data, uri)
        if path is None:
            print(f"  {uri}: no audio file, skipped")
            continue
        audio = read_all(path)
        reference = references[uri]
        options = DiarizationOptions(num_speakers=len(reference.labels()) if args.oracle_speakers else None)
        start = time.perf_counter()
        result = diarizer.diarize_array(audio, options)
        spent += time.perf_counter() - start
        audio_s += len(audio) / SAMPLE_RATE
        hypothesis = Annotation(uri=uri)
        for turn in result.turns:
            hypothesis[Segment(turn.start, turn.end), turn.speaker] = turn.speaker
        der = metric(reference, hypothesis, uem=uems.get(uri))
        files += 1
        print(f"  {uri}: DER {der:.4f}  speakers {len(reference.labels())} true / {len(result.speakers)} found")
    if files == 0:
        raise SystemExit("no audio matched the RTTM uris")
    detail = dict(metric.accumulated_)  # what `metric[:]` returns: each component summed over the files
    total = detail.get("total", 0.0) or 1.0
    print(
        f"{args.data.name}: DER {abs(metric):.4f} = missed {detail.get('missed detection', 0) / total:.4f} "
        f"+ false alarm {detail.get('false alarm', 0) / total:.4f} + confusion {detail.get('confusion', 0) / total:.4f}; "
        f"audio {audio_s:.0f} s, RTF {spent / audio_s:.3f}"
    )
    if args.stm and args.stm.is_file():
        evaluate_stm(args.stm, diarizer, models, args.stm_language, args.stm_model)
    print(f"DER={abs(metric):.4f} files={files}")


if __name__ == "__main__":
    main()

"""Word and character error rates on Vietnamese speech with transcripts.

    .venv/bin/python scripts/eval_asr.py [--data DIR ...] [--model NAME|PATH] [--beam N] [--greedy]
        [--batched | --sequential] [--no-vad] [--prompt] [--recording] [--table | --settings SPEC,...]
    .venv/bin/python scripts/eval_asr.py --live [--streams N] [--own-decoders] [--lead-in silence]   # the live captions' path

``--live`` scores what the live captions commit: each utterance, between 0.5 s of room tone and
1 s of silence, is streamed in 100 ms chunks (faster than real time) through ``speech.live``
(its end-pointing, its options, its final decode); ``--streams N`` runs N utterances side by side
through one shared ``LiveDecoder`` (as N live sources do), ``--own-decoders`` decodes each stream
on its own thread instead (the path before the shared decoder). ``--lead-in silence`` puts digital
silence before each utterance instead of room tone (a gated or muted input, as the seats of
``benchmarks/room_live.py`` are between turns).

A data folder is laid out like ../shared/testdata/asr_vi/vivos: ``transcripts.tsv`` (tab-separated,
header ``file transcript speaker``) and the audio files it names. Without --data, the shared sets
(vivos, fpt) are used. Scoring as in ../shared/testdata/README.md: lower case, Unicode NFC,
punctuation removed, whitespace collapsed (FPT's "-N" noise marks removed); jiwer.

``--recording`` joins each set's utterances into one recording (a second of silence between them)
and transcribes it in one go, as a meeting's final pass does; WER is then scored on the joined text.
``--table`` (or ``--settings`` with specs such as ``batched-b5-vad-noprompt``, ``seq-b1-novad-prompt``;
``seq`` decodes with temperature fallback unless ``nofb`` is added) prints one row per setting and
set: WER, CER, RTF (wall clock) and CPU seconds per audio second (less sensitive to a loaded machine).
``prompt`` is the initial prompt a meeting builds from its agenda and members' names (a fixed
example meeting here: the sets are not meetings).

Prints per-set figures, a few worst utterances, and as its LAST line exactly:
WER=0.xxxx CER=0.xxxx n=N audio_s=S rtf=R   (over every utterance of every set; with --table or
--settings, of the first setting)
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import sys
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.media import SAMPLE_RATE, AudioChunk, read_all  # noqa: E402
from speech.asr import AsrOptions, Transcriber, build_prompt  # noqa: E402
from speech.live import LiveDecoder, LiveOptions, LiveStream  # noqa: E402
from speech.models import ModelStore  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "asr_vi"
# What a meeting's final pass is prompted with (speech.asr.build_prompt of its agenda and members).
EXAMPLE_PROMPT = build_prompt(
    ["Nguyễn Văn Thành", "Trần Thị Hồng Nhung", "Lê Minh Tuấn", "Phạm Thu Hà"],
    ["Kỳ họp thứ ba Hội đồng nhân dân phường", "Dự toán ngân sách năm 2027", "Báo cáo tình hình kinh tế - xã hội"],
)
TABLE = (
    "seq-b5-vad-noprompt",  # the defaults before batching (beam 5, temperature fallback)
    "seq-b1-vad-noprompt",
    "seq-b5-novad-noprompt",
    "seq-b5-vad-prompt",
    "batched-b5-vad-noprompt",
    "batched-b1-vad-noprompt",
    "batched-b5-novad-noprompt",
    "batched-b5-vad-prompt",
)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"(?<!\w)-\d+(?!\w)", " ", text)  # FPT noise marks such as "-1"
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def parse_setting(spec: str) -> AsrOptions:
    """``batched|seq``, ``b<N>``, ``vad|novad``, ``prompt|noprompt``, ``nofb`` joined by "-"."""
    options = AsrOptions(batched=False, initial_prompt=None)
    for token in spec.split("-"):
        if token in ("batched", "seq"):
            options = replace(options, batched=token == "batched")
        elif re.fullmatch(r"b\d+", token) and 1 <= int(token[1:]) <= 10:
            options = replace(options, beam_size=int(token[1:]))
        elif token in ("vad", "novad"):
            options = replace(options, vad_filter=token == "vad")
        elif token in ("prompt", "noprompt"):
            options = replace(options, initial_prompt=EXAMPLE_PROMPT if token == "prompt" else None)
        elif token == "nofb":
            options = replace(options, temperature_fallback=False)
        else:
            raise SystemExit(f"bad setting {spec!r}: unknown part {token!r} (batched|seq, b1..b10, vad|novad, prompt|noprompt, nofb)")
    return options


def describe(options: AsrOptions) -> str:
    mode = f"batched ({options.batch_size})" if options.batched else f"sequential, fallback {options.temperature_fallback}"
    prompt = "yes" if options.initial_prompt else "no"
    return f"{mode}, beam {options.beam_size}, VAD {'on' if options.vad_filter else 'off'}, prompt {prompt}"


@dataclass
class SetResult:
    name: str
    n: int  # utterances
    refs: list[str]
    hyps: list[str]
    audio_s: float
    wall_s: float
    cpu_s: float
    worst: list[tuple[float, str, str, str]]


def run_set(transcriber: Transcriber, folder: Path, options: AsrOptions, limit: int | None, recording: bool) -> SetResult:
    import jiwer

    rows = list(csv.DictReader((folder / "transcripts.tsv").open(encoding="utf-8"), delimiter="\t"))[:limit]
    clips = [read_all(folder / row["file"]) for row in rows]
    refs = [normalise(row["transcript"]) for row in rows]
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    if recording:  # one meeting-like recording: the utterances with a second of silence between them
        gap = np.zeros(SAMPLE_RATE, np.float32)
        joined = np.concatenate([piece for clip in clips for piece in (clip, gap)])
        wall, cpu = time.perf_counter(), time.process_time()
        hyp = " ".join(s.text for s in transcriber.transcribe_array(joined, options))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        ref = " ".join(refs)
        return SetResult(folder.name, len(rows), [ref], [normalise(hyp)], len(joined) / SAMPLE_RATE, wall, cpu, [])
    hyps, worst, wall, cpu = [], [], 0.0, 0.0
    for row, audio, ref in zip(rows, clips, refs, strict=True):
        w0, c0 = time.perf_counter(), time.process_time()
        hyp = normalise(" ".join(s.text for s in transcriber.transcribe_array(audio, options)))
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        hyps.append(hyp)
        worst.append((jiwer.wer(ref, hyp) if ref else 0.0, row["file"], ref, hyp))
    return SetResult(folder.name, len(rows), refs, hyps, audio_s, wall, cpu, sorted(worst, reverse=True)[:3])


def main() -> None:
    import jiwer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", help="folders with transcripts.tsv (default: the shared vivos and fpt)")
    parser.add_argument("--model", default=None, help="a registered model name or a CTranslate2 model directory (default: whisper-base)")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--beam", type=int, default=None, help="beam size (default: the project's default)")
    parser.add_argument("--greedy", action="store_true", help="beam 1, no temperature fallback (fastest)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--batched", action="store_true", default=None, help="decode voiced stretches in batches")
    mode.add_argument("--sequential", dest="batched", action="store_false", help="one 30 s window after another")
    parser.add_argument("--no-vad", action="store_true", help="decode the whole audio, silences included")
    parser.add_argument("--prompt", action="store_true", help="an initial prompt from an example agenda and names")
    parser.add_argument("--recording", action="store_true", help="join each set into one recording (the final pass's case)")
    grid = parser.add_mutually_exclusive_group()
    grid.add_argument("--table", action="store_true", help="every setting of the WER table (see TABLE)")
    grid.add_argument("--settings", help="comma-separated setting specs, e.g. batched-b5-vad-noprompt,seq-b1-vad-prompt")
    parser.add_argument("--show-guard", action="store_true", help="print what the hallucination guard removes")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="at most this many utterances per set")
    parser.add_argument("--live", action="store_true", help="score the live captions' path (end-pointing + live decode)")
    parser.add_argument("--streams", type=int, default=4, help="--live: utterances streamed side by side")
    parser.add_argument("--own-decoders", action="store_true", help="--live: no shared decoder (each stream decodes alone)")
    parser.add_argument("--context", default=None,
                        help="--live: encoder context, 'full' (30 s) or PAD[:MIN] seconds (default: the live captions')")  # fmt: skip
    parser.add_argument("--lead-in", choices=("tone", "silence"), default="tone",
                        help="--live: before each utterance 0.5 s of room tone (-60 dBFS) or of digital silence")  # fmt: skip
    args = parser.parse_args()
    sets = args.data or [p for p in (SHARED / "vivos", SHARED / "fpt") if (p / "transcripts.tsv").exists()]
    if not sets:
        raise SystemExit("no data: give --data DIR (a folder with transcripts.tsv and audio)")
    if args.table or args.settings:
        settings = [(spec, parse_setting(spec)) for spec in (TABLE if args.table else args.settings.split(","))]
    else:
        options = AsrOptions() if args.batched is None else AsrOptions(batched=args.batched)
        if args.beam is not None:
            options = replace(options, beam_size=args.beam)
        if args.greedy:
            options = replace(options, beam_size=1, temperature_fallback=False)
        options = replace(options, vad_filter=not args.no_vad, initial_prompt=EXAMPLE_PROMPT if args.prompt else None)
        settings = [("options", options)]
    if args.show_guard:
        logging.basicConfig(format="  %(message)s")
        for name in ("speech.asr", "speech.guard"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    model_dir = ModelStore(args.models_dir).resolve(args.model)
    t0 = time.perf_counter()
    transcriber = Transcriber(model_dir, cpu_threads=args.threads)
    load_s = time.perf_counter() - t0
    if args.live:
        streamed = live_options(args.context)
        return live(transcriber, sets, args.limit, args.streams, not args.own_decoders, load_s, streamed, args.lead_in == "tone")
    print(f"ASR evaluation: {os.cpu_count()} cores, model {model_dir.name} (loaded in {load_s:.1f} s), language vi, "
          f"{'joined into one recording per set' if args.recording else 'utterance by utterance'}")  # fmt: skip
    table: list[tuple[str, SetResult, float, float]] = []
    first: list[SetResult] = []
    for spec, options in settings:
        print(f"setting {spec}: {describe(options)}")
        for folder in sets:
            before = os.getloadavg()[0]
            result = run_set(transcriber, folder, options, args.limit, args.recording)
            wer, cer = jiwer.wer(result.refs, result.hyps), jiwer.cer(result.refs, result.hyps)
            table.append((spec, result, wer, cer))
            if spec == settings[0][0]:
                first.append(result)
            print(f"{folder.name}: WER {wer:.4f} CER {cer:.4f} n={result.n} audio {result.audio_s:.0f} s "
                  f"RTF {result.wall_s / result.audio_s:.3f} cpu/audio {result.cpu_s / result.audio_s:.3f} "
                  f"load {before:.1f}-{os.getloadavg()[0]:.1f}")  # fmt: skip
            for w, name, ref, hyp in result.worst:
                print(f"  worst {w:.2f} {name}\n    ref: {ref}\n    hyp: {hyp}")
    if len(settings) > 1:
        print(f"\n| setting | {' | '.join(f'{r.name} WER' for r in first)} | {' | '.join(f'{r.name} RTF' for r in first)} | cpu/audio |")
        print(f"|---|{'---|' * (2 * len(first) + 1)}")
        for spec, _ in settings:
            rows = [(r, w) for s, r, w, _c in table if s == spec]
            cpu = sum(r.cpu_s for r, _ in rows) / sum(r.audio_s for r, _ in rows)
            print(f"| {spec} | {' | '.join(f'{w:.4f}' for _, w in rows)} | "
                  f"{' | '.join(f'{r.wall_s / r.audio_s:.3f}' for r, _ in rows)} | {cpu:.3f} |")  # fmt: skip
    all_refs = [x for r in first for x in r.refs]
    all_hyps = [x for r in first for x in r.hyps]
    total_audio = sum(r.audio_s for r in first)
    total_time = sum(r.wall_s for r in first)
    wer, cer = jiwer.wer(all_refs, all_hyps), jiwer.cer(all_refs, all_hyps)
    print(f"WER={wer:.4f} CER={cer:.4f} n={sum(r.n for r in first)} audio_s={total_audio:.1f} rtf={total_time / total_audio:.4f}")


def live_options(context: str | None) -> LiveOptions:
    """The live captions' options, with the encoder context of ``--context``."""
    options = LiveOptions()
    if context is None:
        return options
    if context == "full":
        return replace(options, asr=replace(options.asr, context_pad_s=None))
    pad, _, least = context.partition(":")
    asr = replace(options.asr, context_pad_s=float(pad), context_min_s=float(least) if least else options.asr.context_min_s)
    return replace(options, asr=asr)


def _stream(
    transcriber: Transcriber, decoder: LiveDecoder | None, key: str, audio: np.ndarray, options: LiveOptions, room_tone: bool = True
) -> str:
    """The final captions of one utterance streamed through the live path, joined."""
    stream = LiveStream(transcriber, key, options, decoder=decoder)
    lead = np.zeros(SAMPLE_RATE // 2, np.float32)
    if room_tone:
        lead = (np.random.default_rng(len(audio)).standard_normal(len(lead)) * 1e-3).astype(np.float32)
    padded = np.concatenate([lead, audio, np.zeros(SAMPLE_RATE, np.float32)])
    step, finals = SAMPLE_RATE // 10, []
    for i in range(0, len(padded), step):
        finals += [c.text for c in stream.feed(AudioChunk(padded[i : i + step], i / SAMPLE_RATE, key)) if c.final]
    finals += [c.text for c in stream.flush() if c.final]
    return " ".join(finals)


def live(
    transcriber: Transcriber,
    sets: list[Path],
    limit: int | None,
    streams: int,
    shared: bool,
    load_s: float,
    options: LiveOptions,
    room_tone: bool = True,
) -> None:
    import jiwer

    decoder = LiveDecoder(transcriber) if shared else None
    asr = options.asr
    context = "30 s (full)" if asr.context_pad_s is None else f"clip + {asr.context_pad_s:g} s, at least {asr.context_min_s:g} s"
    print(f"ASR evaluation of the live path: {os.cpu_count()} cores, model {transcriber.model_dir.name} (loaded in {load_s:.1f} s), "
          f"{streams} streams side by side, {'one shared decoder' if shared else 'each stream decoding alone'}, "
          f"encoder context {context}, {'room tone' if room_tone else 'digital silence'} before each utterance")  # fmt: skip
    rows = [
        (folder, row)
        for folder in sets
        for row in list(csv.DictReader((folder / "transcripts.tsv").open(encoding="utf-8"), delimiter="\t"))[:limit]
    ]
    audios = [read_all(folder / row["file"]) for folder, row in rows]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=streams) as pool:
        def one(k: int) -> str:
            return _stream(transcriber, decoder, f"s{k % streams}-{k}", audios[k], options, room_tone)

        hyps = list(pool.map(one, range(len(rows))))
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

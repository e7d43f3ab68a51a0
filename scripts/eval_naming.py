"""Speaker naming accuracy: enrol each speaker from one excerpt, name their turns in the others.

    .venv/bin/python scripts/eval_naming.py [--data DIR] [--pipeline NAME|PATH] [--threshold T] [--margin M] [--smoke]

A data folder is laid out like ../shared/testdata/diarization/ami (``<uri>.wav``, ``reference.rttm``,
optionally ``reference.uem``). Excerpts that share a speaker belong to one meeting. Each speaker is
enrolled (``speech.voiceprint.VoiceEncoder.enrol``, the rules a member's enrolment follows) from the
excerpt where they speak longest alone; a speaker whose solo speech is too short stays a stranger.
Every excerpt of a meeting is then diarized and its clusters named with ``speech.speakers.name_clusters``
against a gallery of all enrolled voices, as the final pass names a recording.

Scored at 10 ms over the UEM, on speech where exactly one reference speaker talks; the speech of a
speaker in the very excerpt they were enrolled from is left out. For an enrolled speaker a frame is
named right (their name), named wrong (another member's) or anonymous ("Người nói N"); for a stranger
it is false-named (any member's name) or anonymous (right). Frames with no hypothesis speaker are
"missed". ``--smoke`` runs one meeting's first two excerpts (a run check, not a measure).
The LAST line is exactly: NAMED_RIGHT=0.xxxx NAMED_WRONG=0.xxxx ANONYMOUS=0.xxxx STRANGERS_NAMED=0.xxxx files=N
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from hardware.media import SAMPLE_RATE, read_all  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "diarization"
FRAME = 0.01
Turns = list[tuple[float, float, str]]


def read_rttm(path: Path) -> dict[str, Turns]:
    turns: dict[str, Turns] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, duration = float(parts[3]), float(parts[4])
            turns.setdefault(parts[1], []).append((start, start + duration, parts[7]))
    return turns


def read_uem(path: Path) -> dict[str, tuple[float, float]]:
    if not path.is_file():
        return {}
    out: dict[str, tuple[float, float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 4:
            out[parts[0]] = (float(parts[2]), float(parts[3]))
    return out


def frames(turns: Iterable[tuple[float, float, str]], n: int) -> dict[str, np.ndarray]:
    """Per label, a boolean activity track of ``n`` 10 ms frames."""
    out: dict[str, np.ndarray] = {}
    for start, end, label in turns:
        track = out.setdefault(label, np.zeros(n, bool))
        track[max(0, round(start / FRAME)) : max(0, min(n, round(end / FRAME)))] = True
    return out


def solo(turns: Turns, n: int) -> dict[str, np.ndarray]:
    """Per reference speaker, the frames where they alone speak."""
    tracks = frames(turns, n)
    if not tracks:
        return {}
    busy = np.sum(list(tracks.values()), axis=0)
    return {label: track & (busy == 1) for label, track in tracks.items()}


def meetings(references: Mapping[str, Turns]) -> list[list[str]]:
    """Excerpts grouped by shared speakers (union-find over uris)."""
    parent = {uri: uri for uri in references}

    def root(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    first: dict[str, str] = {}
    for uri in sorted(references):
        for _s, _e, who in references[uri]:
            if who in first:
                parent[root(uri)] = root(first[who])
            else:
                first[who] = uri
    groups: dict[str, list[str]] = {}
    for uri in sorted(references):
        groups.setdefault(root(uri), []).append(uri)
    return sorted(groups.values())


@dataclass
class Tally:
    """Seconds of scored speech per outcome."""

    right: float = 0.0
    wrong: float = 0.0
    anonymous: float = 0.0
    missed: float = 0.0
    strangers_named: float = 0.0
    strangers_anonymous: float = 0.0
    strangers_missed: float = 0.0

    def shares(self) -> tuple[float, float, float, float]:
        """(named right, named wrong, anonymous) of enrolled speakers' speech; false-named share of strangers'."""
        enrolled = self.right + self.wrong + self.anonymous + self.missed
        strangers = self.strangers_named + self.strangers_anonymous + self.strangers_missed
        e = enrolled or 1.0
        return self.right / e, self.wrong / e, self.anonymous / e, self.strangers_named / (strangers or 1.0)


def score(
    tally: Tally,
    reference: Turns,
    hypothesis: Turns,
    names: Mapping[str, str | None],
    enrolled: set[str],
    skip: set[str],
    extent: tuple[float, float],
) -> None:
    """Add one excerpt: ``hypothesis`` holds exclusive cluster turns, ``names`` maps each cluster to
    the member id it was named after (None when left "Người nói N")."""
    n = round(extent[1] / FRAME)
    scored = np.zeros(n, bool)
    scored[round(extent[0] / FRAME) :] = True
    ref = solo(reference, n)
    hyp = frames(hypothesis, n)
    who = np.full(n, None, dtype=object)  # the member a frame is named after; "" anonymous; None nobody
    for cluster, track in hyp.items():
        who[track] = names.get(cluster) or ""
    for speaker, track in ref.items():
        if speaker in skip:
            continue
        mask = track & scored
        labels = who[mask]
        nobody = float(sum(1 for x in labels if x is None)) * FRAME
        anonymous = float(sum(1 for x in labels if x == "")) * FRAME
        named = labels.size * FRAME - nobody - anonymous
        if speaker in enrolled:
            right = float(sum(1 for x in labels if x == speaker)) * FRAME
            tally.right += right
            tally.wrong += named - right
            tally.anonymous += anonymous
            tally.missed += nobody
        else:
            tally.strangers_named += named
            tally.strangers_anonymous += anonymous
            tally.strangers_missed += nobody


def main() -> None:
    warnings.filterwarnings("ignore", category=UserWarning)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED / "ami", help="folder with audio + reference.rttm [+ reference.uem]")
    parser.add_argument("--pipeline", default=None, help="a registered pipeline name or a pyannote pipeline directory")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--threshold", type=float, default=None, help="least cosine similarity to name (default: the project's)")
    parser.add_argument("--margin", type=float, default=None, help="lead over the runner-up (default: the project's)")
    parser.add_argument("--smoke", action="store_true", help="one meeting's first two excerpts: checks that it runs")
    args = parser.parse_args()

    from speech.diarization import Diarizer
    from speech.models import ModelStore
    from speech.speakers import name_clusters
    from speech.voiceprint import VoiceEncoder, VoiceEnrolmentError, VoiceGallery, VoiceRules

    defaults = VoiceGallery()
    threshold = defaults.threshold if args.threshold is None else args.threshold
    margin = defaults.margin if args.margin is None else args.margin
    rttm = args.data / "reference.rttm"
    if not rttm.is_file():
        if args.smoke:
            print(f"no data: {rttm} does not exist; nothing to measure")
            print("NAMED_RIGHT=0.0000 NAMED_WRONG=0.0000 ANONYMOUS=0.0000 STRANGERS_NAMED=0.0000 files=0")
            return
        raise SystemExit(f"no data: {rttm} does not exist (give --data DIR with audio and reference.rttm)")
    references = {uri: turns for uri, turns in read_rttm(rttm).items() if (args.data / f"{uri}.wav").is_file()}
    uems = read_uem(args.data / "reference.uem")
    groups = [g for g in meetings(references) if len(g) > 1]
    if args.smoke:
        groups = groups[:1]
        groups[0] = groups[0][:2]
    models = ModelStore(args.models_dir)
    folder = models.resolve_diarization(args.pipeline)
    diarizer = Diarizer(folder)
    encoder = VoiceEncoder(folder / "embedding")
    audio = {uri: read_all(args.data / f"{uri}.wav") for group in groups for uri in group}

    # enrolment: each speaker from the excerpt where they speak longest alone
    enrolled_from: dict[str, str] = {}
    prints: dict[str, list[np.ndarray]] = {}
    for group in groups:
        best: dict[str, tuple[float, str, np.ndarray]] = {}
        for uri in group:
            n = len(audio[uri]) * 100 // SAMPLE_RATE
            for speaker, track in solo(references[uri], n).items():
                if track.sum() * FRAME > best.get(speaker, (0.0, "", track))[0]:
                    best[speaker] = (float(track.sum()) * FRAME, uri, track)
        for speaker, (seconds, uri, track) in sorted(best.items()):
            samples = np.repeat(track, SAMPLE_RATE // 100)[: len(audio[uri])]
            voice = audio[uri][: len(samples)][samples]
            try:
                vp = encoder.enrol(voice, VoiceRules())
            except VoiceEnrolmentError as exc:
                print(f"  {speaker}: stranger ({seconds:.1f} s alone in {uri}: {exc.reason})")
                continue
            prints[speaker] = [vp.embedding]
            enrolled_from[speaker] = uri
            print(f"  {speaker}: enrolled from {uri} ({vp.speech_s:.1f} s of speech)")
    gallery = VoiceGallery.build(prints, threshold, margin)

    tally, spent, audio_s = Tally(), 0.0, 0.0
    sweep = {t: Tally() for t in (0.3, 0.4, 0.5, 0.6, 0.7)}
    files = 0
    for group in groups:
        for uri in group:
            start = time.perf_counter()
            result = diarizer.diarize_array(audio[uri])
            spent += time.perf_counter() - start
            audio_s += len(audio[uri]) / SAMPLE_RATE
            hypothesis = [(t.start, t.end, t.speaker) for t in result.exclusive]
            extent = uems.get(uri, (0.0, len(audio[uri]) / SAMPLE_RATE))
            skip = {s for s, u in enrolled_from.items() if u == uri}
            labels = name_clusters(result, gallery)
            names = {c: label.member_id for c, label in labels.items()}
            score(tally, references[uri], hypothesis, names, set(enrolled_from), skip, extent)
            for t, other in sweep.items():
                swept = name_clusters(result, VoiceGallery.build(prints, t, margin))
                score(other, references[uri], hypothesis, {c: lb.member_id for c, lb in swept.items()}, set(enrolled_from), skip, extent)
            named = ", ".join(f"{c}={lb.member_id or lb.name}" + (f" ({lb.score:.2f})" if lb.score else "") for c, lb in labels.items())
            print(f"  {uri}: {named or 'nobody'}")
            files += 1
    speakers = {who for uri in audio for *_, who in references[uri]}
    print(f"{len(prints)} of {len(speakers)} speakers enrolled; diarization RTF {spent / max(audio_s, 1e-9):.3f}")
    print(f"threshold  named right  named wrong  anonymous  strangers named   (margin {margin:.2f})")
    for t, other in sweep.items():
        r, w, a, s = other.shares()
        print(f"  {t:.2f}       {r:.3f}        {w:.3f}        {a:.3f}      {s:.3f}")
    r, w, a, s = tally.shares()
    enrolled_s = tally.right + tally.wrong + tally.anonymous + tally.missed
    strangers_s = tally.strangers_named + tally.strangers_anonymous + tally.strangers_missed
    print(
        f"{args.data.name}: threshold {threshold:.2f} margin {margin:.2f}: enrolled speakers' speech {enrolled_s:.1f} s "
        f"(missed by diarization {tally.missed / (enrolled_s or 1):.3f}), strangers' speech {strangers_s:.1f} s"
    )
    print(f"NAMED_RIGHT={r:.4f} NAMED_WRONG={w:.4f} ANONYMOUS={a:.4f} STRANGERS_NAMED={s:.4f} files={files}")


if __name__ == "__main__":
    main()

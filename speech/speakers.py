"""Putting names on transcript lines: diarized clusters -> members (voiceprints) or "Người nói N",
segments split where the speaker changes, and an online clusterer for live captions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from speech.diarization import Diarization
from speech.guard import collapse_loops
from speech.transcript import Segment, Word
from speech.voiceprint import VoiceGallery, VoiceMatch, unit


@dataclass(frozen=True)
class SpeakerLabel:
    cluster: str  # "SPEAKER_00", "channel-3", "live-2", "member-<id>"
    name: str  # the member's name, or "Người nói N"
    member_id: str | None = None
    score: float | None = None  # voiceprint similarity when named by voice


def anonymous(n: int) -> str:
    return f"Người nói {n}"


def name_clusters(
    diarization: Diarization, gallery: VoiceGallery | None = None, names: dict[str, str] | None = None
) -> dict[str, SpeakerLabel]:
    """A label per cluster: an enrolled member when the voice matches, else "Người nói N" numbered
    in order of first speech. One member names one cluster only (the most similar)."""
    first: dict[str, float] = {}
    for t in diarization.turns:
        first[t.speaker] = min(first.get(t.speaker, t.start), t.start)
    order = sorted(first, key=lambda c: first[c])
    matches: dict[str, tuple[str, VoiceMatch]] = {}
    if gallery is not None and len(gallery):
        for cluster in order:
            centroid = diarization.centroids.get(cluster)
            match = gallery.match(centroid) if centroid is not None else None
            if match is not None and (match.member_id not in matches or matches[match.member_id][1].score < match.score):
                matches[match.member_id] = (cluster, match)
    by_cluster = {cluster: match for cluster, match in matches.values()}
    labels, n = {}, 0
    for cluster in order:
        match = by_cluster.get(cluster)
        if match is not None:
            name = (names or {}).get(match.member_id, match.member_id)
            labels[cluster] = SpeakerLabel(cluster, name, match.member_id, match.score)
        else:
            n += 1
            labels[cluster] = SpeakerLabel(cluster, anonymous(n))
    return labels


def attribute(segments: Iterable[Segment], diarization: Diarization, min_words: int = 2) -> Iterator[tuple[Segment, str | None]]:
    """Each segment with the cluster that spoke it; a segment whose words change speaker is split
    there (runs shorter than ``min_words`` stay with their neighbours)."""
    for seg in segments:
        if not seg.words:
            yield seg, diarization.speaker_at(seg.start, seg.end)
            continue
        runs: list[tuple[str | None, list[Word]]] = []
        for w in seg.words:
            who = diarization.speaker_at(w.start, max(w.end, w.start + 0.01))
            if runs and (runs[-1][0] == who or who is None):
                runs[-1][1].append(w)
            else:
                runs.append((who, [w]))
        merged: list[tuple[str | None, list[Word]]] = []
        for who, words in runs:  # fold short runs (a misplaced word) into the previous run
            if merged and (len(words) < min_words or who == merged[-1][0]):
                merged[-1][1].extend(words)
            else:
                merged.append((who, words))
        if len(merged) > 1 and len(merged[0][1]) < min_words:
            merged[1] = (merged[1][0], merged[0][1] + merged[1][1])
            merged.pop(0)
        if len(merged) == 1:
            yield seg, merged[0][0] if merged[0][0] is not None else diarization.speaker_at(seg.start, seg.end)
            continue
        for who, words in merged:
            # the guard collapsed a loop in the segment's text, not in its timed words (their times
            # follow the speech, which the split needs): each piece's text is collapsed again
            text = collapse_loops(_join(words))
            yield replace(seg, start=words[0].start, end=words[-1].end, text=text, words=tuple(words)), who


def _join(words: list[Word]) -> str:
    return " ".join(w.text.strip() for w in words if w.text.strip())  # Whisper's words carry their leading space


class OnlineClusters:
    """Speaker clusters built as live segments arrive: a segment joins the most similar cluster
    when above ``threshold``, else starts a new one. Centroids are running means."""

    def __init__(self, threshold: float = 0.45, prefix: str = "live") -> None:
        self.threshold = threshold
        self.prefix = prefix
        self._centroids: list[np.ndarray] = []
        self._counts: list[int] = []

    @property
    def centroids(self) -> dict[str, np.ndarray]:
        return {f"{self.prefix}-{i + 1}": unit(c) for i, c in enumerate(self._centroids)}

    def assign(self, embedding: np.ndarray) -> str:
        e = unit(embedding)
        if self._centroids:
            scores = [float(unit(c) @ e) for c in self._centroids]
            best = int(np.argmax(scores))
            if scores[best] >= self.threshold:
                n = self._counts[best]
                self._centroids[best] = (self._centroids[best] * n + e) / (n + 1)
                self._counts[best] = n + 1
                return f"{self.prefix}-{best + 1}"
        self._centroids.append(e.copy())
        self._counts.append(1)
        return f"{self.prefix}-{len(self._centroids)}"

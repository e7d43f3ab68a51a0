"""Removes what Whisper writes when nobody says it: the known phrases it learnt from subtitled
videos, repeated-phrase loops, and text over silence."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from speech.transcript import Segment

# Written without diacritics, lower case: compared against the same normalisation of the text.
KNOWN_PHRASES = (
    "hay subscribe cho kenh",
    "hay dang ky kenh",
    "dang ky kenh",
    "nho like va subscribe",
    "like va subscribe",
    "cam on cac ban da theo doi",
    "cam on cac ban da xem",
    "cam on cac ban da lang nghe",
    "hen gap lai cac ban trong nhung video tiep theo",
    "hen gap lai cac ban trong video tiep theo",
    "ghien mi go",
    "la la school",
    "phu de boi",
    "thanks for watching",
    "please subscribe",
    "subtitles by",
    "amara.org",
)
SILENCE_DB = -50.0  # segments over audio quieter than this are not speech


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d), for matching only."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def _key(word: str) -> str:
    return re.sub(r"\W", "", fold(word))


def _strip_phrases(text: str) -> str:
    words = text.split()
    folded = [_key(w) for w in words]
    keep = [True] * len(words)
    for phrase in KNOWN_PHRASES:
        p = [_key(w) for w in phrase.split()]
        for i in range(len(words) - len(p) + 1):
            if folded[i : i + len(p)] == p:
                # the phrase and whatever trails it in the same sentence ("… cho kênh Ghiền Mì Gõ")
                j = i + len(p)
                while j < len(words) and not re.search(r"[.!?]$", words[j - 1]):
                    j += 1
                for k in range(i, j):
                    keep[k] = False
    return " ".join(w for w, k in zip(words, keep, strict=True) if k)


def collapse_loops(text: str, min_repeats: int = 3, max_ngram: int = 8) -> str:
    """ "a b a b a b a b" -> "a b": a phrase repeated ``min_repeats`` or more times in a row is kept once."""
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        collapsed = False
        for n in range(1, max_ngram + 1):
            gram = [fold(w) for w in words[i : i + n]]
            if len(gram) < n:
                break
            reps = 1
            while [fold(w) for w in words[i + reps * n : i + (reps + 1) * n]] == gram:
                reps += 1
            if reps >= min_repeats:
                out.extend(words[i : i + n])
                i += reps * n
                collapsed = True
                break
        if not collapsed:
            out.append(words[i])
            i += 1
    return " ".join(out)


def clean(segment: Segment, loudness_db: float | None = None) -> Segment | None:
    """The segment with hallucinated text removed, or None if nothing real is left."""
    if loudness_db is not None and loudness_db < SILENCE_DB:
        return None
    if segment.no_speech_prob > 0.6 and segment.avg_logprob < -1.0:  # Whisper's own silence rule
        return None
    text = unicodedata.normalize("NFC", " ".join(segment.text.split()))
    text = collapse_loops(_strip_phrases(text))
    if not re.search(r"\w", text):
        return None
    if text == segment.text:
        return segment
    kept = {fold(w) for w in text.split()}
    words = tuple(w for w in segment.words if fold(w.text.strip()) in kept) if segment.words else ()
    return replace(segment, text=text, words=words)
